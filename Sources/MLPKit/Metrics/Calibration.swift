import Foundation

/// Whether a model's probabilities can be trusted, and whether two models differ: the expected
/// calibration error, the multiclass Brier score, and McNemar's test.
public enum Calibration {
    /// The expected calibration error of Guo et al. (2017): the samples binned by their top
    /// probability into `bins` equal-width bins ((0, 1/M], (1/M, 2/M], …), and the bins' gaps
    /// between accuracy and mean confidence averaged, weighted by their share of the samples.
    public static func expectedCalibrationError(_ probabilities: [Float], labels: [Int], classes: Int, bins: Int = 15) -> Double {
        guard !labels.isEmpty, classes > 0 else { return .nan }
        var count = [Int](repeating: 0, count: bins), right = [Int](repeating: 0, count: bins)
        var confidence = [Double](repeating: 0, count: bins)
        for (row, label) in labels.enumerated() {
            var best = 0
            var top = probabilities[row * classes]
            for c in 1..<classes where probabilities[row * classes + c] > top {
                (best, top) = (c, probabilities[row * classes + c])
            }
            guard top.isFinite else { return .nan }
            let bin = min(max(Int((Double(top) * Double(bins)).rounded(.up)) - 1, 0), bins - 1)
            count[bin] += 1
            confidence[bin] += Double(top)
            if best == label { right[bin] += 1 }
        }
        let n = Double(labels.count)
        return (0..<bins).reduce(0.0) { sum, b in
            guard count[b] > 0 else { return sum }
            let m = Double(count[b])
            return sum + m / n * abs(Double(right[b]) / m - confidence[b] / m)
        }
    }

    /// scikit-learn's multiclass `brier_score_loss`: the mean over samples of the squared
    /// distance between the probabilities and the one-hot label.
    public static func brierScore(_ probabilities: [Float], labels: [Int], classes: Int) -> Double {
        guard !labels.isEmpty else { return .nan }
        var total = 0.0
        for (row, label) in labels.enumerated() {
            for c in 0..<classes {
                let d = Double(probabilities[row * classes + c]) - (c == label ? 1 : 0)
                total += d * d
            }
        }
        return total / Double(labels.count)
    }

    /// McNemar's test of two classifiers on the same samples, as statsmodels' `mcnemar` computes
    /// it: on the discordant pairs (`aOnly` right by A alone, `bOnly` by B alone), the exact
    /// two-sided binomial test below 25 of them (statistic: the smaller count), else the
    /// chi-square with continuity correction, (|b − c| − 1)² / (b + c), on one degree of freedom.
    public struct McNemar: Sendable, Equatable {
        public var aOnly: Int
        public var bOnly: Int
        public var discordant: Int { aOnly + bOnly }
        public var exact: Bool { discordant < 25 }
        public var statistic: Double
        public var pValue: Double

        public init(aOnly: Int, bOnly: Int) {
            (self.aOnly, self.bOnly) = (aOnly, bOnly)
            let n = aOnly + bOnly
            if n < 25 {
                let k = min(aOnly, bOnly)
                statistic = Double(k)
                // P(X ≤ k) for X ~ Binomial(n, 1/2), doubled; 1 with no discordant pair.
                var term = pow(0.5, Double(n)), cumulative = 0.0
                for i in 0...k {
                    if i > 0 { term *= Double(n - i + 1) / Double(i) }
                    cumulative += term
                }
                pValue = min(2 * cumulative, 1)
            } else {
                let d = abs(Double(aOnly - bOnly)) - 1
                statistic = d * d / Double(n)
                pValue = erfc((statistic / 2).squareRoot())
            }
        }

        /// The test for predictions `a` and `b` of `labels`.
        public init(predictedA a: [Int], predictedB b: [Int], labels: [Int]) {
            var aOnly = 0, bOnly = 0
            for i in labels.indices {
                let ra = a[i] == labels[i], rb = b[i] == labels[i]
                if ra && !rb { aOnly += 1 } else if rb && !ra { bOnly += 1 }
            }
            self.init(aOnly: aOnly, bOnly: bOnly)
        }
    }
}
