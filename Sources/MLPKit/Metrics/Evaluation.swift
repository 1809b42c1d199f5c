import Foundation

/// Everything `mlp-eval` reports about a model on a labelled set.
public struct EvaluationReport {
    /// One class's scores, one-vs-rest; decoded from `mlp-eval --json`'s `per_class` too.
    public struct ClassScore: Decodable {
        /// The class index, from 0.
        public var index: Int
        public var name: String
        /// The samples of this class in the data.
        public var support: Int
        /// nil when the class has no samples, or only samples, so that its AUC is undefined
        /// (scikit-learn refuses it; it is left out of the macro average, with a note).
        public var rocAUC: Double?
        public var precision: Double
        public var recall: Double
        public var f1: Double

        enum CodingKeys: String, CodingKey {
            case index, name, support, precision, recall, f1
            case rocAUC = "roc_auc"
        }
    }

    public var samples: Int
    public var classNames: [String]
    public var accuracy: Double
    /// The registered metrics (`Metrics`), in position order.
    public var metrics: [MetricValue]
    /// The fraction of samples whose class is among the five most probable.
    public var top5Accuracy: Double { metrics.first { $0.key == TopFiveAccuracy.key }?.value ?? .nan }
    /// One-vs-rest ROC AUC averaged over classes: unweighted (macro), by support (weighted), and over all
    /// (sample, class) pairs at once (micro), as scikit-learn's `roc_auc_score`.
    public var rocAUCMacro: Double
    public var rocAUCWeighted: Double
    public var rocAUCMicro: Double
    /// scikit-learn's `log_loss`: mean cross-entropy with probabilities clipped to [eps, 1 − eps], float32's
    /// eps; no regularization penalty.
    public var logLoss: Double
    /// Guo et al.'s expected calibration error over 15 equal-width bins of the top probability.
    public var expectedCalibrationError: Double
    /// scikit-learn's multiclass `brier_score_loss`.
    public var brierScore: Double
    /// Precision, recall and F1 averaged as scikit-learn's `classification_report` averages them.
    public struct Averages: Sendable, Equatable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }
    /// Over the classes in the labels or the predictions: unweighted, and weighted by support.
    public var macroAverage: Averages
    public var weightedAverage: Averages
    public var perClass: [ClassScore]
    /// Counts by true class (rows) and predicted class (columns), as scikit-learn's `confusion_matrix`.
    public var confusion: [[Int]]
    /// 95% bootstrap intervals of accuracy, macro AUC, ECE and Brier score, with `--ci N`:
    /// percentiles of N resamples drawn with replacement.
    public var intervals: Bootstrap.Intervals?
    /// N of those resamples; nil without intervals.
    public var bootstrapResamples: Int?
    /// Things the reader must know, such as outputs that were not probabilities.
    public var notes: [String] = []
    /// The predicted probabilities, (samples, classes), and the exact AUC computer over them.
    public var probabilities: [Float]
    /// Computes any class's or average's exact AUC and curve over `probabilities`.
    public var auc: ROCAUC
    /// Each sample's part in the calibration metrics (the reliability diagram's bins).
    public var calibration: Calibration.Terms

    /// The largest off-diagonal counts of the confusion matrix, most first (ties by true, then
    /// predicted class index): which class is taken for which.
    public func mostConfused(_ count: Int) -> [(actual: Int, predicted: Int, count: Int)] {
        var pairs: [(actual: Int, predicted: Int, count: Int)] = []
        for (actual, row) in confusion.enumerated() {
            for (predicted, n) in row.enumerated() where predicted != actual && n > 0 { pairs.append((actual, predicted, n)) }
        }
        pairs.sort { ($0.count, $1.actual, $1.predicted) > ($1.count, $0.actual, $0.predicted) }
        return Array(pairs.prefix(count))
    }

    /// Classes with an AUC, best first.
    public var classesByAUC: [ClassScore] {
        perClass.filter { $0.rocAUC != nil }.sorted { ($0.rocAUC!, $1.index) > ($1.rocAUC!, $0.index) }
    }
}

/// A model's predictions on a labelled set and the metrics of `mlp-eval` over them.
public enum Evaluation {
    /// Predicts `data` with `model` in batches and computes every metric of the report.
    /// A model whose last activation is not softmax is evaluated on the softmax of its outputs.
    ///
    /// - Parameters:
    ///   - drawn: sees each bootstrap resample's drawn sample indices, in order (to check the
    ///     intervals elsewhere).
    public static func evaluate(model: Sequential, data: ImageDataset, batchSize: Int = 500,
                                bootstrap: Int = 0, seed: UInt64 = 0,
                                drawn: ((_ resample: Int, _ indices: [Int]) -> Void)? = nil) throws -> EvaluationReport {
        let (probabilities, notes) = try self.probabilities(model: model, data: data, batchSize: batchSize)
        return report(probabilities: probabilities, labels: data.labels.map(Int.init), classNames: data.classNames,
                      bootstrap: bootstrap, seed: seed, notes: notes, drawn: drawn)
    }

    /// Accuracy and log loss exactly as `evaluate` reports them, without the rest of the report
    /// (the holdout line of `mlp-train`).
    public static func accuracyAndLogLoss(model: Sequential, data: ImageDataset, batchSize: Int = 500) throws
        -> (accuracy: Double, logLoss: Double)
    {
        let (probabilities, _) = try self.probabilities(model: model, data: data, batchSize: batchSize)
        let labels = data.labels.map(Int.init)
        let predicted = Classification.predictedClasses(probabilities, classes: data.classCount)
        return (Classification.accuracy(predicted: predicted, labels: labels),
                Classification.logLoss(probabilities, labels: labels, classes: data.classCount))
    }

    /// The model's probabilities for `data`, (samples, classes): its outputs, or their softmax
    /// (with a note) when its last activation is not softmax.
    static func probabilities(model: Sequential, data: ImageDataset, batchSize: Int) throws -> ([Float], [String]) {
        try model.checkFits(data)
        var notes: [String] = []
        var probabilities = model.predict(data, batchSize: batchSize)
        if !model.endsInSoftmax {
            notes.append("the model's last activation is not softmax, so its outputs are not probabilities; evaluated their softmax")
            probabilities.withUnsafeMutableBufferPointer { p in
                Activation.softmax.forward(p.baseAddress!, p.baseAddress!, rows: data.count, width: data.classCount)
            }
        }
        return (probabilities, notes)
    }

    /// The report for given probabilities (samples, classes) and labels.
    public static func report(probabilities: [Float], labels: [Int], classNames: [String], bootstrap: Int = 0,
                              seed: UInt64 = 0, notes: [String] = [],
                              drawn: ((_ resample: Int, _ indices: [Int]) -> Void)? = nil) -> EvaluationReport {
        let classes = classNames.count
        var notes = notes
        let nonFinite = probabilities.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        if nonFinite > 0 {
            notes.append("\(nonFinite) of the \(probabilities.count) predicted probabilities are NaN or infinite (the model's "
                + "weights hold such values, as a diverged run leaves them); a NaN ranks below every score in the ROC AUC, "
                + "and the log loss is NaN")
        }
        let predicted = Classification.predictedClasses(probabilities, classes: classes)
        let auc = ROCAUC(scores: probabilities, labels: labels, classes: classes)
        let perClassAUC = auc.perClass()
        let confusion = Classification.confusionMatrix(predicted: predicted, labels: labels, classes: classes)
        let scores = Classification.precisionRecallF1(confusion: confusion)
        let absent = (0..<classes).filter { perClassAUC[$0] == nil }
        if !absent.isEmpty {
            notes.append("\(absent.count) class(es) have no ROC AUC (absent from the labels, or the only class): "
                + absent.prefix(5).map { classNames[$0] }.joined(separator: ", ") + (absent.count > 5 ? ", ..." : "")
                + "; left out of the macro average")
        }
        // classification_report's averages: over the labels present in the truth or the predictions.
        let present = (0..<classes).filter { c in scores[c].support > 0 || predicted.contains(c) }
        func average(_ weights: (Int) -> Double) -> EvaluationReport.Averages {
            let total = present.reduce(0.0) { $0 + weights($1) }
            func mean(_ value: (Int) -> Double) -> Double {
                total > 0 ? present.reduce(0.0) { $0 + weights($1) * value($1) } / total : 0
            }
            return EvaluationReport.Averages(precision: mean { scores[$0].precision }, recall: mean { scores[$0].recall },
                                             f1: mean { scores[$0].f1 })
        }
        let calibration = Calibration.Terms(probabilities, labels: labels, classes: classes)
        var report = EvaluationReport(
            samples: labels.count, classNames: classNames,
            accuracy: Classification.accuracy(predicted: predicted, labels: labels),
            metrics: Metrics.all.map {
                MetricValue(key: $0.key, label: $0.label, value: $0.value(probabilities: probabilities, labels: labels, classes: classes))
            },
            rocAUCMacro: ROCAUC.macro(perClassAUC),
            rocAUCWeighted: ROCAUC.weighted(perClassAUC, support: scores.map(\.support)),
            rocAUCMicro: auc.micro(),
            logLoss: Classification.logLoss(probabilities, labels: labels, classes: classes),
            expectedCalibrationError: calibration.expectedCalibrationError(),
            brierScore: calibration.brierScore(),
            macroAverage: average { _ in 1 }, weightedAverage: average { Double(scores[$0].support) },
            perClass: (0..<classes).map {
                EvaluationReport.ClassScore(index: $0, name: classNames[$0], support: scores[$0].support, rocAUC: perClassAUC[$0],
                                            precision: scores[$0].precision, recall: scores[$0].recall, f1: scores[$0].f1)
            },
            confusion: confusion, notes: notes, probabilities: probabilities, auc: auc, calibration: calibration)
        if bootstrap > 0 {
            report.intervals = Bootstrap.intervals(auc: auc, predicted: predicted, calibration: calibration, resamples: bootstrap,
                                                   seed: seed, drawn: drawn)
            report.bootstrapResamples = bootstrap
        }
        return report
    }
}

extension EvaluationReport {
    /// The report a person reads at a glance.
    public func text(title: String) -> String {
        func f(_ x: Double) -> String { x.isNaN ? "NaN" : String(format: "%.4f", x) }
        func interval(_ i: Bootstrap.Interval?) -> String {
            i.map { "   95% CI \(f($0.low))–\(f($0.high)) (\(bootstrapResamples ?? 0) bootstrap resamples)" } ?? ""
        }
        let support = perClass.map(\.support)
        let low = support.min() ?? 0, high = support.max() ?? 0
        var lines = [
            title,
            "samples         \(samples) in \(classNames.count) classes, \(low == high ? "\(low) per class (balanced)" : "\(low) to \(high) per class")",
            "accuracy        \(f(accuracy))\(interval(intervals?.accuracy))",
        ] + metrics.map { $0.label.padding(toLength: 16, withPad: " ", startingAt: 0) + f($0.value) } + [
            "ROC AUC (OvR)   macro \(f(rocAUCMacro))\(interval(intervals?.macroAUC))",
            "                weighted \(f(rocAUCWeighted))   micro \(f(rocAUCMicro))",
            "log loss        \(f(logLoss))",
            "calibration     ECE \(f(expectedCalibrationError)) (15 bins)\(interval(intervals?.expectedCalibrationError))",
            "                Brier \(f(brierScore))\(interval(intervals?.brierScore))",
            "macro avg       precision \(f(macroAverage.precision))   recall \(f(macroAverage.recall))   F1 \(f(macroAverage.f1))",
            "weighted avg    precision \(f(weightedAverage.precision))   recall \(f(weightedAverage.recall))   F1 \(f(weightedAverage.f1))",
        ]
        let ranked = classesByAUC
        func list(_ items: ArraySlice<ClassScore>) -> String {
            items.map { "\($0.name) \(f($0.rocAUC!))" }.joined(separator: ", ")
        }
        lines.append("best by AUC     " + list(ranked.prefix(5)))
        lines.append("worst by AUC    " + list(ranked.suffix(5).reversed()[...]))
        let confused = mostConfused(5)
        if !confused.isEmpty {
            lines.append("most confused   " + confused.map { "\(classNames[$0.actual]) as \(classNames[$0.predicted]) \($0.count)" }
                .joined(separator: ", "))
        }
        lines += notes.map { "note: " + $0 }
        return lines.joined(separator: "\n")
    }

    /// One JSON object with every number of the report.
    public func jsonObject(extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        func number(_ x: Double?) -> JSONValue { x.map { JSONValue(finite: $0) } ?? .null }
        func averages(_ a: Averages) -> JSONValue {
            ["precision": .double(a.precision), "recall": .double(a.recall), "f1": .double(a.f1)]
        }
        var object: [String: JSONValue] = [
            "samples": .int(samples), "accuracy": .double(accuracy),
            "roc_auc_ovr_macro": number(rocAUCMacro), "roc_auc_ovr_weighted": number(rocAUCWeighted),
            "roc_auc_ovr_micro": number(rocAUCMicro), "log_loss": .double(logLoss), "notes": JSONValue(notes),
            "expected_calibration_error": number(expectedCalibrationError), "brier_score": number(brierScore),
            "macro_avg": averages(macroAverage), "weighted_avg": averages(weightedAverage),
            "most_confused": .array(mostConfused(10).map {
                ["true": .string(classNames[$0.actual]), "predicted": .string(classNames[$0.predicted]), "count": .int($0.count)]
            }),
            "per_class": .array(perClass.map {
                ["index": .int($0.index), "name": .string($0.name), "support": .int($0.support), "roc_auc": number($0.rocAUC),
                 "precision": .double($0.precision), "recall": .double($0.recall), "f1": .double($0.f1)]
            }),
        ]
        for metric in metrics { object[metric.key] = JSONValue(finite: metric.value) }
        if let i = intervals {
            func pair(_ interval: Bootstrap.Interval) -> JSONValue { [number(interval.low), number(interval.high)] }
            object["confidence_intervals"] = [
                "level": 0.95, "resamples": .int(bootstrapResamples ?? 0),
                "accuracy": pair(i.accuracy), "roc_auc_ovr_macro": pair(i.macroAUC),
                "expected_calibration_error": pair(i.expectedCalibrationError), "brier_score": pair(i.brierScore),
            ]
        }
        object.merge(extra) { $1 }
        return object
    }

    /// The confusion matrix as CSV: a header of predicted class names, one row per true class.
    public func confusionCSV() -> String {
        func quoted(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s }
        var lines = ["true\\predicted," + classNames.map(quoted).joined(separator: ",")]
        for (index, row) in confusion.enumerated() {
            lines.append(quoted(classNames[index]) + "," + row.map(String.init).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
