/// Exact ROC AUC, one class against the rest: the Mann–Whitney statistic with ties counted as
/// half, which equals scikit-learn's trapezoid over distinct thresholds.
public struct ROCAUC {
    /// Per class, the sample order by ascending score, computed once so that bootstrap
    /// resamples cost one pass per class, not a sort.
    let order: [[Int32]]
    let scores: [Float]
    let labels: [Int]
    public let classes: Int

    public init(scores: [Float], labels: [Int], classes: Int) {
        self.scores = scores
        self.labels = labels
        self.classes = classes
        let n = labels.count
        order = (0..<classes).map { c in
            (0..<Int32(n)).sorted { scores[Int($0) * classes + c] < scores[Int($1) * classes + c] }
        }
    }

    /// AUC of class `c` against the rest, with per-sample `weights` (counts of a bootstrap
    /// resample; nil for all ones). nil when the class has no positive or no negative sample.
    public func auc(classIndex c: Int, weights: [Double]? = nil) -> Double? {
        var positives = 0.0, negatives = 0.0, area = 0.0
        let column = order[c]
        var i = 0
        while i < column.count {
            // One group of equal scores: positives in it beat the negatives below by 1 each
            // and tie with the negatives in it for 1/2 each.
            let score = scores[Int(column[i]) * classes + c]
            var groupPositives = 0.0, groupNegatives = 0.0
            while i < column.count, scores[Int(column[i]) * classes + c] == score {
                let sample = Int(column[i])
                let w = weights?[sample] ?? 1
                if labels[sample] == c { groupPositives += w } else { groupNegatives += w }
                i += 1
            }
            area += groupPositives * (negatives + 0.5 * groupNegatives)
            positives += groupPositives
            negatives += groupNegatives
        }
        guard positives > 0, negatives > 0 else { return nil }
        return area / (positives * negatives)
    }

    /// Every class's AUC (nil for a class absent from the labels or present in all).
    public func perClass(weights: [Double]? = nil) -> [Double?] { (0..<classes).map { auc(classIndex: $0, weights: weights) } }

    /// The unweighted mean over classes that have an AUC.
    public static func macro(_ values: [Double?]) -> Double {
        let present = values.compactMap { $0 }
        return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
    }

    /// The mean weighted by each class's number of positive samples.
    public static func weighted(_ values: [Double?], support: [Int]) -> Double {
        var sum = 0.0, total = 0.0
        for (value, count) in zip(values, support) {
            guard let value else { continue }
            sum += value * Double(count)
            total += Double(count)
        }
        return total > 0 ? sum / total : .nan
    }

    /// Micro average: one binary AUC over every (sample, class) pair of the one-hot labels.
    public func micro() -> Double {
        let n = labels.count
        let flat = (0..<(n * classes)).sorted { scores[$0] < scores[$1] }
        var positives = 0.0, negatives = 0.0, area = 0.0, i = 0
        while i < flat.count {
            let score = scores[flat[i]]
            var groupPositives = 0.0, groupNegatives = 0.0
            while i < flat.count, scores[flat[i]] == score {
                if labels[flat[i] / classes] == flat[i] % classes { groupPositives += 1 } else { groupNegatives += 1 }
                i += 1
            }
            area += groupPositives * (negatives + 0.5 * groupNegatives)
            positives += groupPositives
            negatives += groupNegatives
        }
        return positives > 0 && negatives > 0 ? area / (positives * negatives) : .nan
    }

    /// The ROC curve of class `c` (or of all pairs when `c` is nil, the micro curve): false
    /// and true positive rates at each distinct threshold, from (0, 0) to (1, 1).
    public func curve(classIndex c: Int?) -> (fpr: [Double], tpr: [Double]) {
        let n = labels.count
        let items: [(score: Float, positive: Bool)] = c.map { c in
            (0..<n).map { (scores[$0 * classes + c], labels[$0] == c) }
        } ?? (0..<(n * classes)).map { (scores[$0], labels[$0 / classes] == $0 % classes) }
        let sorted = items.sorted { $0.score > $1.score }
        let totalPositives = Double(sorted.filter(\.positive).count), totalNegatives = Double(sorted.count) - totalPositives
        var fpr = [0.0], tpr = [0.0], tp = 0.0, fp = 0.0, i = 0
        while i < sorted.count {
            let score = sorted[i].score
            while i < sorted.count, sorted[i].score == score {
                if sorted[i].positive { tp += 1 } else { fp += 1 }
                i += 1
            }
            fpr.append(totalNegatives > 0 ? fp / totalNegatives : 0)
            tpr.append(totalPositives > 0 ? tp / totalPositives : 0)
        }
        return (fpr, tpr)
    }
}
