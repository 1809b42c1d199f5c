#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import Testing
@testable import MLPKit

@Suite struct MetricsTests {
    /// The scikit-learn cases; a missing or empty fixture fails the tests built from it.
    static func cases() throws -> [String] {
        let names = ((try jsonFixture("metrics/cases.json")["cases"] as? [String: Any]) ?? [:]).keys.sorted()
        guard !names.isEmpty else { throw MLPError.format(path: fixture("metrics/cases.json"), problem: "no cases") }
        return names
    }

    struct Case {
        var classes: Int
        var labels: [Int]
        var probabilities: [Float]
        var expected: [String: Any]
    }

    func load(_ name: String) throws -> Case {
        let all = try #require(try jsonFixture("metrics/cases.json")["cases"] as? [String: Any])
        let item = try #require(all[name] as? [String: Any])
        let bytes = try #require(Data(base64Encoded: item["probabilities_f32le_base64"] as? String ?? ""))
        let probabilities = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return Case(classes: try #require(item["classes"] as? Int), labels: try #require(item["labels"] as? [Int]),
                    probabilities: probabilities, expected: item)
    }

    func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }

    /// Accuracy, top-k, every AUC and log loss against scikit-learn, to 1e-9.
    @Test(arguments: try cases())
    func agreesWithScikitLearn(_ name: String) throws {
        let c = try load(name)
        let predicted = Classification.predictedClasses(c.probabilities, classes: c.classes)
        #expect(abs(Classification.accuracy(predicted: predicted, labels: c.labels) - number(c.expected["accuracy"])) < 1e-12)
        for k in [1, 5] where c.expected["top\(k)"] != nil {
            let value = Classification.topKAccuracy(c.probabilities, labels: c.labels, classes: c.classes, k: k)
            #expect(abs(value - number(c.expected["top\(k)"])) < 1e-12, "top-\(k)")
        }
        let auc = ROCAUC(scores: c.probabilities, labels: c.labels, classes: c.classes)
        let perClass = auc.perClass()
        let expectedPerClass = try #require(c.expected["roc_auc_per_class"] as? [Any])
        for (index, (value, expected)) in checkedZip(perClass, expectedPerClass).enumerated() {
            if expected is NSNull {
                #expect(value == nil, "class \(index) is absent and has no AUC")
            } else {
                #expect(abs((value ?? .nan) - number(expected)) < 1e-9, "class \(index)")
            }
        }
        #expect(abs(ROCAUC.macro(perClass) - number(c.expected["roc_auc_macro"])) < 1e-9, "macro")
        if let weighted = c.expected["roc_auc_weighted"] {
            let support = (0..<c.classes).map { k in c.labels.filter { $0 == k }.count }
            #expect(abs(ROCAUC.weighted(perClass, support: support) - number(weighted)) < 1e-9, "weighted")
        }
        #expect(abs(auc.micro() - number(c.expected["roc_auc_micro"])) < 1e-9, "micro")
        let logLoss = Classification.logLoss(c.probabilities, labels: c.labels, classes: c.classes)
        #expect(abs(logLoss - number(c.expected["log_loss"])) < 1e-9, "log loss \(logLoss)")
    }

    @Test(arguments: try cases())
    func confusionAndPerClassScores(_ name: String) throws {
        let c = try load(name)
        let predicted = Classification.predictedClasses(c.probabilities, classes: c.classes)
        let confusion = Classification.confusionMatrix(predicted: predicted, labels: c.labels, classes: c.classes)
        #expect(confusion == c.expected["confusion"] as? [[Int]])
        let scores = Classification.precisionRecallF1(confusion: confusion)
        for (key, values) in [("precision", scores.map(\.precision)), ("recall", scores.map(\.recall)), ("f1", scores.map(\.f1))] {
            #expect(maxDifference(values, try doubles(c.expected[key])) < 1e-12, "\(key)")
        }
        #expect(scores.map(\.support) == c.expected["support"] as? [Int])
    }

    /// A hand-checked AUC: scores 0.1, 0.4, 0.35, 0.8 for labels 0, 0, 1, 1 give 3 of 4 pairs
    /// ordered correctly; a tie between a positive and a negative counts one half.
    @Test func handCheckedAUC() {
        let scores: [Float] = [0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8]
        let auc = ROCAUC(scores: scores, labels: [0, 0, 1, 1], classes: 2)
        #expect(auc.auc(classIndex: 1) == 0.75)
        let tied = ROCAUC(scores: [0.5, 0.5, 0.5, 0.5, 0.3, 0.7], labels: [0, 1, 1], classes: 2)
        // Class 1: positives 0.5 and 0.7 against negative 0.5: one tie (1/2) and one win (1).
        #expect(tied.auc(classIndex: 1) == 0.75)
    }

    /// A NaN score (a model with NaN weights) ranks below every number, by hand: class 1's
    /// positives score 0.4 and NaN, its negatives 0.35 and 0.2. 0.4 beats both negatives (2),
    /// NaN beats neither (0): 2 of 4 pairs. Class 0 mirrors it: 0.65 and 0.8 against 0.6 and NaN.
    @Test func notANumberRanksLowest() {
        let nan = Float.nan
        let auc = ROCAUC(scores: [0.65, 0.35, 0.8, 0.2, 0.6, 0.4, nan, nan], labels: [0, 0, 1, 1], classes: 2)
        #expect(auc.auc(classIndex: 1) == 0.5)
        #expect(auc.auc(classIndex: 0) == 1.0)
        #expect(auc.micro().isFinite)
    }

    @Test func bootstrapIsSeededAndBracketsTheEstimate() throws {
        let c = try load("realistic_100")
        let auc = ROCAUC(scores: c.probabilities, labels: c.labels, classes: c.classes)
        let predicted = Classification.predictedClasses(c.probabilities, classes: c.classes)
        let terms = Calibration.Terms(c.probabilities, labels: c.labels, classes: c.classes)
        let a = Bootstrap.intervals(auc: auc, predicted: predicted, calibration: terms, resamples: 200, seed: 4)
        let b = Bootstrap.intervals(auc: auc, predicted: predicted, calibration: terms, resamples: 200, seed: 4)
        #expect(a.accuracy.low == b.accuracy.low && a.macroAUC.high == b.macroAUC.high)
        let accuracy = Classification.accuracy(predicted: predicted, labels: c.labels)
        #expect(a.accuracy.low < accuracy && accuracy < a.accuracy.high)
        // The binomial standard error sqrt(p(1-p)/n) puts the 95% half-width near 1.96·0.0136.
        let halfWidth = (a.accuracy.high - a.accuracy.low) / 2
        #expect(abs(halfWidth - 1.96 * (accuracy * (1 - accuracy) / 600).squareRoot()) < 0.008)
        let macro = ROCAUC.macro(auc.perClass())
        #expect(a.macroAUC.low < macro && macro < a.macroAUC.high)
        #expect(a.brierScore.low < terms.brierScore() && terms.brierScore() < a.brierScore.high)
        #expect(a.expectedCalibrationError.low < a.expectedCalibrationError.high)
    }
}

@Suite struct EvaluationTests {
    let data = SyntheticCIFAR.make(trainCount: 0, testCount: 200).test

    /// A model without a final softmax is evaluated on the softmax of its outputs, with a note;
    /// the numbers equal those of the same model with the softmax.
    @Test func nonProbabilityOutputs() throws {
        let linear = Sequential(inputShape: [3072], layers: [Dense(name: "dense", inputs: 3072, units: 100, activation: .linear)])
        let softmax = Sequential(inputShape: [3072], layers: [Dense(name: "dense", inputs: 3072, units: 100, activation: .softmax)])
        linear.initialize(seed: 3)
        softmax.initialize(seed: 3)
        let a = try Evaluation.evaluate(model: linear, data: data)
        let b = try Evaluation.evaluate(model: softmax, data: data)
        #expect(a.notes.contains { $0.contains("not softmax") } && b.notes.isEmpty)
        #expect(abs(a.logLoss - b.logLoss) < 1e-6 && a.rocAUCMacro == b.rocAUCMacro && a.accuracy == b.accuracy)
    }

    @Test func outputWidthMustMatchTheClasses() {
        let model = Sequential.mlp(inputShape: [3072], hidden: [], classes: 10, seed: 1)
        #expect(throws: MLPError.model("the model has 10 outputs but the data has 100 classes")) {
            _ = try Evaluation.evaluate(model: model, data: data)
        }
    }

    /// The standalone SVG: well-formed XML with the four curves and their AUCs in the legend.
    @Test func rocChart() throws {
        let model = Sequential.mlp(inputShape: [3072], hidden: [], classes: 100, seed: 1)
        let report = try Evaluation.evaluate(model: model, data: data)
        let svg = ROCPlot.svg(curves: ROCPlot.curves(for: report), title: "ROC")
        _ = try XMLDocument(data: Data(svg.utf8))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)
        #expect(svg.contains(String(format: "macro average (AUC %.4f)", report.rocAUCMacro)))
    }
}

/// The ROC's radix sort gives the order the standard library's sort gives: by key, ties by the
/// index below it.
@Suite struct RadixSortTests {
    @Test func sameOrderAsSort() {
        var generator = SeededGenerator(seed: 11)
        for (count, distinct) in [(0, 1), (1, 1), (7, 3), (1000, 5), (10_000, 1 << 32), (100_000, 256), (50_000, 1)] {
            // Keys as ROCAUC.orderKey makes them from probabilities: few distinct ones (ties), or many.
            var values = (0..<count).map { i -> UInt64 in
                let key = distinct == 1 << 32 ? generator.next() & 0xFFFF_FFFF : generator.next() % UInt64(distinct) * 0x0101_0101
                return key << 32 | UInt64(i)
            }
            let expected = values.sorted()
            values.withUnsafeMutableBufferPointer { sortByKey($0) }
            #expect(values == expected, "\(count) values of \(distinct) keys")
        }
    }
}
