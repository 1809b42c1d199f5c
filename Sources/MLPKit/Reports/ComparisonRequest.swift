import Foundation

/// `mlp-eval --compare A B`: two models on the same holdout set, the differences B − A in
/// accuracy and macro ROC AUC with paired bootstrap intervals (the same resamples for both), and
/// McNemar's test on their right and wrong answers.
public struct ComparisonRequest {
    public var a: (model: CompiledModel, path: String)
    public var b: (model: CompiledModel, path: String)
    /// The holdout data asked for; the rest is what A records (B's when A records none).
    public var data = DataSelection()
    /// Paired bootstrap resamples; 1000 when 0.
    public var resamples = 0
    public var seed: UInt64 = 0
    public var batchSize = 500
    /// Where the sample indices each resample drew go (`.npy`, int32, resamples × samples).
    public var resamplesFile: String?

    public init(a: (model: CompiledModel, path: String), b: (model: CompiledModel, path: String)) {
        self.a = a
        self.b = b
    }

    public func run(log: (String) -> Void) throws -> ComparisonResult {
        if let resamplesFile { try OutputName.check(resamplesFile, flag: "save-resamples", formats: OutputName.npy) }
        let recordA = a.model.record, recordB = b.model.record
        if data.labelMode == nil, let modeA = recordA.labelMode, let modeB = recordB.labelMode, modeA != modeB {
            throw MLPError.usage("\(a.path) records \(modeA.rawValue) labels and \(b.path) \(modeB.rawValue): compare models of one label mode")
        }
        // The data A records (B's when A records none); a note for a model trained on other data.
        let (first, second) = recordA.datasetName != nil ? ((recordA, a.path), (recordB, b.path)) : ((recordB, b.path), (recordA, a.path))
        let pair = try data.load(splits: .holdoutOnly, defaults: DataDefaults(record: first.0, model: first.1), log: log)
        if let note = second.0.dataNote(path: second.1, data: pair) { log(note) }
        let reportA = try MLPError.naming(file: a.path) { try Evaluation.evaluate(model: a.model.model, data: pair.test, batchSize: batchSize) }
        let reportB = try MLPError.naming(file: b.path) { try Evaluation.evaluate(model: b.model.model, data: pair.test, batchSize: batchSize) }
        let count = resamples > 0 ? resamples : 1000
        var drawn: [Int32] = []
        if resamplesFile != nil { drawn.reserveCapacity(count * reportA.samples) }
        let predictedA = Classification.predictedClasses(reportA.probabilities, classes: reportA.classNames.count)
        let predictedB = Classification.predictedClasses(reportB.probabilities, classes: reportB.classNames.count)
        let comparison = Bootstrap.compare(a: reportA.auc, predictedA: predictedA, b: reportB.auc, predictedB: predictedB,
                                           resamples: count, seed: seed,
                                           drawn: resamplesFile == nil ? nil : { _, indices in drawn += indices.map { Int32($0) } })
        if let resamplesFile { try AtomicFile.write(NPY.encode(int32s: drawn, shape: [count, reportA.samples]), to: resamplesFile) }
        let mcnemar = Calibration.McNemar(predictedA: predictedA, predictedB: predictedB, labels: pair.test.labels.map(Int.init))
        return ComparisonResult(pathA: a.path, pathB: b.path, dataset: pair.name, source: pair.source, samples: reportA.samples,
                                resamples: count, seed: seed, comparison: comparison, mcnemar: mcnemar)
    }
}

/// Two models compared, as `mlp-eval --compare` prints it.
public struct ComparisonResult {
    public var pathA: String, pathB: String
    public var dataset: String, source: String
    public var samples: Int, resamples: Int
    public var seed: UInt64
    public var comparison: Bootstrap.Comparison
    public var mcnemar: Calibration.McNemar

    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        func row(_ name: String, _ m: Bootstrap.Comparison.Metric) -> String {
            let verdict = m.excludesZero ? "excludes 0: \(m.difference > 0 ? "B" : "A") is better" : "includes 0: no difference shown"
            let signed = Self.signedFormat([m.difference, m.interval.low, m.interval.high])
            return name.padding(toLength: 17, withPad: " ", startingAt: 0) + f(m.a) + "    " + f(m.b) + "    " + signed(m.difference)
                + "    " + signed(m.interval.low) + " to " + signed(m.interval.high) + "   " + verdict
        }
        let test = "McNemar          \(mcnemar.aOnly) right by A alone, \(mcnemar.bOnly) by B alone: "
            + (mcnemar.exact ? "exact binomial, statistic \(Int(mcnemar.statistic))" : "chi-square \(f(mcnemar.statistic))")
            + ", p = " + (mcnemar.pValue < 1e-4 ? String(format: "%.2e", mcnemar.pValue) : f(mcnemar.pValue))
            + (mcnemar.pValue < 0.05 ? " (the models differ at the 5% level)" : " (no difference shown at the 5% level)")
        return ["A \(pathA)", "B \(pathB)",
                "on the \(dataset) holdout set: \(samples) images; \(resamples) paired bootstrap resamples (seed \(seed))",
                "                 A         B         B − A      95% CI of B − A",
                row("accuracy", comparison.accuracy), row("ROC AUC (macro)", comparison.macroAUC), test].joined(separator: "\n")
    }

    /// Signed numbers written with the decimals (4 to 8) that give the smallest of `values` that
    /// is not 0 two significant digits, and in scientific notation when 8 do not.
    static func signedFormat(_ values: [Double]) -> (Double) -> String {
        let smallest = values.filter { $0 != 0 && $0.isFinite }.map(abs).min() ?? 1
        let digits = max(4, 1 - Int(log10(smallest).rounded(.down)))
        let format = digits > 8 ? "%+.2e" : "%+.\(digits)f"
        return { String(format: format, $0) }
    }

    public var json: JSONValue {
        func metric(_ m: Bootstrap.Comparison.Metric) -> JSONValue {
            ["a": .double(m.a), "b": .double(m.b), "b_minus_a": .double(m.difference), "ci": [.double(m.interval.low), .double(m.interval.high)],
             "excludes_zero": .bool(m.excludesZero)]
        }
        return ["a": .string(pathA), "b": .string(pathB), "dataset": .string(dataset), "data": .string(source), "samples": .int(samples),
                "resamples": .int(resamples), "seed": .int(Int(truncatingIfNeeded: seed)), "level": 0.95,
                "accuracy": metric(comparison.accuracy), "roc_auc_ovr_macro": metric(comparison.macroAUC),
                "mcnemar": ["statistic": .double(mcnemar.statistic), "p_value": .double(mcnemar.pValue), "discordant": .int(mcnemar.discordant),
                            "a_only": .int(mcnemar.aOnly), "b_only": .int(mcnemar.bOnly), "exact": .bool(mcnemar.exact)]]
    }
}
