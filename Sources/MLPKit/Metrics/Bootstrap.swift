/// Percentile bootstrap confidence intervals over the holdout samples.
public enum Bootstrap {
    public struct Interval: Sendable {
        public var low: Double
        public var high: Double
    }

    /// 95% intervals for accuracy and macro ROC AUC from `resamples` draws of n samples with
    /// replacement, seeded so the same seed gives the same intervals.
    public static func intervals(auc: ROCAUC, predicted: [Int], resamples: Int, seed: UInt64)
        -> (accuracy: Interval, macroAUC: Interval)
    {
        let n = auc.labels.count
        var generator = SeededGenerator(seed: seed)
        var accuracies: [Double] = [], macros: [Double] = []
        var weights = [Double](repeating: 0, count: n)
        for _ in 0..<resamples {
            for i in 0..<n { weights[i] = 0 }
            for _ in 0..<n { weights[generator.nextInt(below: n)] += 1 }
            var correct = 0.0
            for i in 0..<n where predicted[i] == auc.labels[i] { correct += weights[i] }
            accuracies.append(correct / Double(n))
            macros.append(ROCAUC.macro(auc.perClass(weights: weights)))
        }
        return (percentiles(accuracies), percentiles(macros))
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
