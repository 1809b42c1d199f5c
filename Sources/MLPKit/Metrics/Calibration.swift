import Foundation

/// Whether a model's probabilities can be trusted, and whether two models differ: the expected
/// calibration error, the multiclass Brier score, and McNemar's test.
public enum Calibration {
    /// The expected calibration error of Guo et al. (2017): the samples binned by their top
    /// probability into `bins` equal-width bins ((0, 1/M], (1/M, 2/M], …), and the bins' gaps
    /// between accuracy and mean confidence averaged, weighted by their share of the samples.
    public static func expectedCalibrationError(_ probabilities: [Float], labels: [Int], classes: Int, bins: Int = 15) -> Double {
        Terms(probabilities, labels: labels, classes: classes, bins: bins).expectedCalibrationError()
    }

    /// scikit-learn's multiclass `brier_score_loss`: the mean over samples of the squared
    /// distance between the probabilities and the one-hot label.
    public static func brierScore(_ probabilities: [Float], labels: [Int], classes: Int) -> Double {
        Terms(probabilities, labels: labels, classes: classes).brierScore()
    }

    /// Each sample's part in the expected calibration error and the Brier score, worked out
    /// once, so that a bootstrap resample only reweights them.
    public struct Terms: Sendable {
        public let bins: Int
        /// Each sample's bin, top probability, whether its top class is its label, and its
        /// squared distance to the one-hot label; nil bins where a probability is not finite.
        let bin: [Int?]
        let top: [Double]
        let right: [Bool]
        let squaredDistance: [Double]

        public init(_ probabilities: [Float], labels: [Int], classes: Int, bins: Int = 15) {
            self.bins = bins
            var bin = [Int?](), top = [Double](), right = [Bool](), squared = [Double]()
            for (row, label) in labels.enumerated() where classes > 0 {
                var best = 0, highest = probabilities[row * classes], distance = 0.0
                for c in 0..<classes {
                    let p = probabilities[row * classes + c]
                    if p > highest { (best, highest) = (c, p) }
                    let d = Double(p) - (c == label ? 1 : 0)
                    distance += d * d
                }
                bin.append(highest.isFinite ? min(max(Int((Double(highest) * Double(bins)).rounded(.up)) - 1, 0), bins - 1) : nil)
                top.append(Double(highest))
                right.append(best == label)
                squared.append(distance)
            }
            (self.bin, self.top, self.right, squaredDistance) = (bin, top, right, squared)
        }

        /// One bin of the top probability: its samples (weighted), their accuracy and mean top probability.
        public struct Bin: Sendable {
            /// The bin's range of top probabilities, (lower, upper].
            public var lower: Double
            public var upper: Double
            public var count: Double
            public var accuracy: Double
            public var confidence: Double
        }

        /// The bins, with each sample counted `weights[i]` times (once each by default); nil when
        /// a counted sample's probabilities are not finite.
        public func binStatistics(weights: [Double]? = nil) -> [Bin]? {
            var count = [Double](repeating: 0, count: bins), correct = count, confidence = count
            for i in bin.indices {
                let w = weights?[i] ?? 1
                guard w != 0 else { continue }
                guard let b = bin[i] else { return nil }
                count[b] += w
                confidence[b] += w * top[i]
                if right[i] { correct[b] += w }
            }
            return (0..<bins).map { b in
                Bin(lower: Double(b) / Double(bins), upper: Double(b + 1) / Double(bins), count: count[b],
                    accuracy: count[b] > 0 ? correct[b] / count[b] : .nan, confidence: count[b] > 0 ? confidence[b] / count[b] : .nan)
            }
        }

        /// The expected calibration error with each sample counted `weights[i]` times (once each by default).
        public func expectedCalibrationError(weights: [Double]? = nil) -> Double {
            guard !bin.isEmpty, let bins = binStatistics(weights: weights) else { return .nan }
            let total = bins.reduce(0) { $0 + $1.count }
            return bins.reduce(0.0) { sum, b in b.count > 0 ? sum + b.count / total * abs(b.accuracy - b.confidence) : sum }
        }

        /// The Brier score with each sample counted `weights[i]` times (once each by default).
        public func brierScore(weights: [Double]? = nil) -> Double {
            guard !squaredDistance.isEmpty else { return .nan }
            var sum = 0.0, total = 0.0
            for i in squaredDistance.indices {
                let w = weights?[i] ?? 1
                sum += w * squaredDistance[i]
                total += w
            }
            return sum / total
        }
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
