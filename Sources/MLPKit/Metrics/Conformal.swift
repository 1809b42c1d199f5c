import Foundation

/// Split conformal prediction sets, as MAPIE 1.6's `SplitConformalClassifier(prefit=True,
/// conformity_score=…, confidence_level=1 - alpha, random_state=seed)` computes them from the
/// same probabilities (taken as float64): a threshold fitted on labelled calibration data, then
/// for each new sample the set of classes that contains its true class with probability at
/// least 1 − alpha (over the draw of calibration and test data).
public struct ConformalPredictor: Sendable, Equatable {
    /// How a class's nonconformity is scored.
    public enum Score: String, Sendable, CaseIterable {
        /// Least ambiguous set-valued classifier: 1 − the class's probability.
        case lac
        /// Adaptive prediction sets: the probability mass of the classes ranked above the true
        /// one, plus a uniform random share of the true class's own (MAPIE's randomized score).
        case aps
    }

    public var alpha: Double
    public var score: Score
    /// The conformity scores' order statistic the sets are cut at.
    public var quantile: Double
    /// The seed of APS's uniform draws (MAPIE's `random_state`).
    public var seed: UInt32
    /// Calibration samples the quantile came from.
    public var samples: Int

    /// MAPIE's tolerance in every comparison (`mapie._machine_precision.EPSILON`).
    static let epsilon = 1e-8

    public init(alpha: Double, score: Score, quantile: Double, seed: UInt32, samples: Int) {
        (self.alpha, self.score, self.quantile, self.seed, self.samples) = (alpha, score, quantile, seed, samples)
    }

    /// The predictor a model's record keeps; nil for a score this version does not know.
    public init?(record: ConformalRecord) {
        guard let score = Score(rawValue: record.score) else { return nil }
        self.init(alpha: record.alpha, score: score, quantile: record.quantile, seed: record.seed, samples: record.samples)
    }

    /// As a model's record keeps it.
    public var record: ConformalRecord {
        ConformalRecord(alpha: alpha, score: score.rawValue, quantile: quantile, seed: seed, samples: samples)
    }

    /// The predictor `model`'s record keeps.
    ///
    /// - Throws: when it keeps none (a model not calibrated by `mlp-eval --conformal -o`).
    public static func recorded(in record: RunRecord, model: String) throws -> ConformalPredictor {
        guard let kept = record.conformal, let predictor = ConformalPredictor(record: kept) else {
            throw MLPError.format(path: model, problem: "records no prediction-set threshold: make one with mlp-eval \(model) "
                + "--conformal 0.1 -o calibrated.h5, and ask calibrated.h5 for --sets")
        }
        return predictor
    }

    /// Fits the quantile: the ⌈(n + 1)(1 − alpha)⌉-th smallest of the calibration samples'
    /// conformity scores (numpy's `quantile(…, method="lower")` at that rank over n).
    ///
    /// - Parameters:
    ///   - probabilities: (samples, classes) row-major.
    /// - Throws: when alpha is outside (0, 1), or the samples are too few for it.
    public static func fit(probabilities: [Float], labels: [Int], classes: Int, alpha: Double, score: Score,
                           seed: UInt32 = 0) throws -> ConformalPredictor {
        guard alpha > 0, alpha < 1 else { throw MLPError.setting("conformal", problem: "must be above 0 and below 1, got \(alpha)") }
        let n = labels.count
        let rank = Int(((Double(n) + 1) * (1 - alpha)).rounded(.up))
        guard n > 0, rank <= n else {
            let needed = Int((1 / alpha).rounded(.up)) - 1
            throw MLPError.setting("conformal", problem: "\(pythonFloat(alpha)) needs at least \(needed) calibration samples, got \(n)")
        }
        var uniform = PythonRandom(numpySeed: seed)
        let scores = labels.enumerated().map { row, label -> Double in
            let p = probabilities[(row * classes)..<((row + 1) * classes)].map(Double.init)
            switch score {
            case .lac: return 1 - p[label]
            case .aps:
                var mass = 0.0
                for j in descending(p) {
                    mass += p[j]
                    if j == label { break }
                }
                return mass - uniform.random() * p[label]
            }
        }.sorted()
        return ConformalPredictor(alpha: alpha, score: score, quantile: scores[rank * (n - 1) / n], seed: seed, samples: n)
    }

    /// Class indices by decreasing probability; ties, the higher index first (numpy's
    /// `flip(argsort(p))` on distinct values).
    static func descending(_ p: [Double]) -> [Int] {
        p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 > $1 }
    }

    /// The prediction set of one sample's probabilities: the class indices in it, ascending.
    public func set<C: Collection<Float>>(_ probabilities: C) -> [Int] {
        let p = probabilities.map(Double.init)
        switch score {
        case .lac:
            return p.indices.filter { (1 - p[$0]) - quantile <= Self.epsilon }
        case .aps:
            // The first class, by rank, whose cumulated mass reaches the quantile is the last
            // one in; then every class at least as likely.
            var cumulated = [Double](repeating: 0, count: p.count), mass = 0.0
            for j in Self.descending(p) {
                mass += p[j]
                cumulated[j] = mass
            }
            let reaching = p.indices.filter { cumulated[$0] - quantile >= -Self.epsilon }
            let last = reaching.min { (cumulated[$0] - quantile, $0) < (cumulated[$1] - quantile, $1) } ?? 0
            var floor = p[last]
            if floor <= Self.epsilon { floor = p.filter { $0 >= Self.epsilon }.min() ?? .infinity }
            return p.indices.filter { p[$0] - floor >= -Self.epsilon }
        }
    }
}
