/// Percentile bootstrap confidence intervals over the holdout samples.
public enum Bootstrap {
    /// A 95% percentile interval [low, high].
    public struct Interval: Sendable {
        public var low: Double
        public var high: Double
    }

    /// 95% intervals of one model's metrics.
    public struct Intervals: Sendable {
        public var accuracy: Interval
        public var macroAUC: Interval
        public var expectedCalibrationError: Interval
        public var brierScore: Interval
    }

    /// 95% intervals for accuracy, macro ROC AUC, the expected calibration error and the Brier
    /// score from `resamples` draws of n samples with replacement, seeded so the same seed gives
    /// the same intervals.
    ///
    /// - Parameters:
    ///   - drawn: sees each resample's drawn sample indices, in order (to check it elsewhere).
    public static func intervals(auc: ROCAUC, predicted: [Int], calibration: Calibration.Terms, resamples: Int, seed: UInt64,
                                 drawn: ((_ resample: Int, _ indices: [Int]) -> Void)? = nil) -> Intervals {
        var accuracies: [Double] = [], macros: [Double] = [], eces: [Double] = [], briers: [Double] = []
        forEachResample(samples: auc.labels.count, resamples: resamples, seed: seed, drawn: drawn) { _, weights in
            accuracies.append(accuracy(predicted: predicted, labels: auc.labels, weights: weights))
            macros.append(ROCAUC.macro(auc.perClass(weights: weights)))
            eces.append(calibration.expectedCalibrationError(weights: weights))
            briers.append(calibration.brierScore(weights: weights))
        }
        return Intervals(accuracy: percentiles(accuracies), macroAUC: percentiles(macros),
                         expectedCalibrationError: percentiles(eces), brierScore: percentiles(briers))
    }

    /// Two models on the same samples, compared with a paired bootstrap: every resample draws
    /// the same samples for both, so the interval of the difference B - A reflects the models
    /// and not the luck of the draw.
    public struct Comparison: Sendable {
        public struct Metric: Sendable {
            public var a: Double
            public var b: Double
            /// The 95% interval of B - A over the resamples.
            public var interval: Interval
            /// B - A on the whole set.
            public var difference: Double { b - a }
            /// Whether the interval leaves 0 out: the difference is not noise at 95%.
            public var excludesZero: Bool { interval.low > 0 || interval.high < 0 }
        }

        public var accuracy: Metric
        public var macroAUC: Metric
        /// Resamples drawn.
        public var resamples: Int
    }

    /// The paired bootstrap of `a` against `b` (the same labels, the same samples).
    ///
    /// - Parameters:
    ///   - drawn: sees each resample's drawn sample indices, in order (to check it elsewhere).
    public static func compare(a: ROCAUC, predictedA: [Int], b: ROCAUC, predictedB: [Int], resamples: Int, seed: UInt64,
                               drawn: ((_ resample: Int, _ indices: [Int]) -> Void)? = nil) -> Comparison {
        let labels = a.labels
        var accuracy: [Double] = [], macro: [Double] = []
        forEachResample(samples: labels.count, resamples: resamples, seed: seed, drawn: drawn) { _, weights in
            accuracy.append(Self.accuracy(predicted: predictedB, labels: labels, weights: weights)
                - Self.accuracy(predicted: predictedA, labels: labels, weights: weights))
            macro.append(ROCAUC.macro(b.perClass(weights: weights)) - ROCAUC.macro(a.perClass(weights: weights)))
        }
        let ones = [Double](repeating: 1, count: labels.count)
        return Comparison(
            accuracy: .init(a: Self.accuracy(predicted: predictedA, labels: labels, weights: ones),
                            b: Self.accuracy(predicted: predictedB, labels: labels, weights: ones), interval: percentiles(accuracy)),
            macroAUC: .init(a: ROCAUC.macro(a.perClass()), b: ROCAUC.macro(b.perClass()), interval: percentiles(macro)),
            resamples: resamples)
    }

    /// Draws `resamples` resamples of `samples` samples with replacement from one seeded
    /// stream, and calls `body` with each one's weights (how often each sample was drawn).
    static func forEachResample(samples n: Int, resamples: Int, seed: UInt64, drawn: ((Int, [Int]) -> Void)? = nil,
                                _ body: (_ resample: Int, _ weights: [Double]) -> Void) {
        var generator = SeededGenerator(seed: seed)
        var weights = [Double](repeating: 0, count: n)
        var indices = [Int](repeating: 0, count: drawn == nil ? 0 : n)
        for resample in 0..<resamples {
            for i in 0..<n { weights[i] = 0 }
            for k in 0..<n {
                let index = generator.nextInt(below: n)
                weights[index] += 1
                if drawn != nil { indices[k] = index }
            }
            drawn?(resample, indices)
            body(resample, weights)
        }
    }

    static func accuracy(predicted: [Int], labels: [Int], weights: [Double]) -> Double {
        var correct = 0.0
        for i in labels.indices where predicted[i] == labels[i] { correct += weights[i] }
        return correct / Double(max(labels.count, 1))
    }

    /// The 2.5th and 97.5th percentiles, interpolated linearly as numpy's default.
    static func percentiles(_ values: [Double]) -> Interval {
        let sorted = values.filter { !$0.isNaN }.sorted()
        guard !sorted.isEmpty else { return Interval(low: .nan, high: .nan) }
        func at(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lower = Int(position), upper = min(lower + 1, sorted.count - 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        return Interval(low: at(0.025), high: at(0.975))
    }
}
