import Foundation
import Testing
@testable import MLPKit

/// McNemar's test against statsmodels (Fixtures/metrics/make_mcnemar.py), the expected
/// calibration error and the Brier score against hand calculations. The interop check compares
/// all three, and classification_report's averages, on real models' predictions.
@Suite struct CalibrationTests {
    static func mcnemarCases() throws -> [[String: Double]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("metrics/mcnemar.json")))
        guard let cases = try JSONSerialization.jsonObject(with: data) as? [[String: Double]], !cases.isEmpty else {
            throw MLPError.format(path: fixture("metrics/mcnemar.json"), problem: "no cases")
        }
        return cases
    }

    /// Both of statsmodels' branches: exact binomial below 25 discordant pairs (none at all: p = 1),
    /// the corrected chi-square from 25 on.
    @Test func mcnemarEqualsStatsmodels() throws {
        let cases = try Self.mcnemarCases()
        #expect(cases.count >= 10)
        for item in cases {
            let a = Int(try #require(item["a_only"])), b = Int(try #require(item["b_only"]))
            let test = Calibration.McNemar(aOnly: a, bOnly: b)
            #expect(abs(test.statistic - (item["statistic"] ?? .nan)) <= 1e-9, "\(a), \(b): \(test.statistic)")
            #expect(abs(test.pValue - (item["p_value"] ?? .nan)) <= 1e-12, "\(a), \(b): \(test.pValue)")
        }
        // From predictions: A right on 0 and 1, B on 1 and 2; one discordant pair each way.
        let fromPredictions = Calibration.McNemar(predictedA: [0, 1, 9, 3], predictedB: [5, 1, 2, 3], labels: [0, 1, 2, 4])
        #expect(fromPredictions.aOnly == 1 && fromPredictions.bOnly == 1 && fromPredictions.pValue == 1)
    }

    /// Four samples of three classes, by hand: top probabilities 0.5 (bin (7/15, 8/15]), 0.9 and
    /// 0.92 (both in (13/15, 14/15]) and 0.6 (its own bin); right, right, wrong, right.
    /// Bins: {0.5 right}: |1 − 0.5|; {0.9 right, 0.92 wrong}: |0.5 − 0.91|; {0.6 right}: |1 − 0.6|.
    /// ECE = (0.5 + 2 · 0.41 + 0.4) / 4 = 0.43. Brier: per sample Σ (p − onehot)².
    @Test func calibrationByHand() {
        let p: [Float] = [0.5, 0.3, 0.2,
                          0.05, 0.9, 0.05,
                          0.92, 0.08, 0.0,
                          0.2, 0.2, 0.6]
        let labels = [0, 1, 2, 2]
        let ece = Calibration.expectedCalibrationError(p, labels: labels, classes: 3)
        #expect(abs(ece - 0.43) < 1e-6, "\(ece)")
        let brier = ((0.25 + 0.09 + 0.04) + (0.0025 + 0.01 + 0.0025) + (0.8464 + 0.0064 + 1) + (0.04 + 0.04 + 0.16)) / 4
        #expect(abs(Calibration.brierScore(p, labels: labels, classes: 3) - brier) < 1e-6)
    }

    /// A resample's weights count samples: weighted ECE and Brier equal the plain ones on the
    /// data with each sample repeated that many times.
    @Test func weightsCountRepeatedSamples() {
        let p: [Float] = [0.5, 0.3, 0.2, 0.05, 0.9, 0.05, 0.92, 0.08, 0.0, 0.2, 0.2, 0.6]
        let labels = [0, 1, 1, 2], weights: [Double] = [2, 0, 3, 1]
        var repeated: [Float] = [], repeatedLabels: [Int] = []
        for (i, w) in weights.enumerated() {
            for _ in 0..<Int(w) {
                repeated += p[i * 3..<i * 3 + 3]
                repeatedLabels.append(labels[i])
            }
        }
        let terms = Calibration.Terms(p, labels: labels, classes: 3)
        #expect(abs(terms.expectedCalibrationError(weights: weights)
            - Calibration.expectedCalibrationError(repeated, labels: repeatedLabels, classes: 3)) < 1e-12)
        #expect(abs(terms.brierScore(weights: weights) - Calibration.brierScore(repeated, labels: repeatedLabels, classes: 3)) < 1e-12)
    }
}
