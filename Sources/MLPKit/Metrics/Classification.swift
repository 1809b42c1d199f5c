import Foundation

/// Classification metrics over row-major (samples, classes) scores and integer labels, in
/// double precision, with scikit-learn's semantics.
public enum Classification {
    /// The index of each row's largest score; the first on ties, as numpy's `argmax`.
    public static func predictedClasses(_ scores: [Float], classes: Int) -> [Int] {
        stride(from: 0, to: scores.count, by: classes).map { start in
            var best = 0
            for j in 1..<classes where scores[start + j] > scores[start + best] { best = j }
            return best
        }
    }

    /// `accuracy_score`: the fraction of samples whose prediction equals the label.
    public static func accuracy(predicted: [Int], labels: [Int]) -> Double {
        guard !labels.isEmpty else { return .nan }
        return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// `top_k_accuracy_score`: whether the label is among the `k` highest scores. Ties are
    /// broken as scikit-learn's stable sort then reversal does: the higher class index first.
    public static func topKAccuracy(_ scores: [Float], labels: [Int], classes: Int, k: Int) -> Double {
        guard !labels.isEmpty else { return .nan }
        var hits = 0
        for (row, label) in labels.enumerated() {
            let base = row * classes, score = scores[base + label]
            // Classes ranked ahead of the label: higher score, or equal score and higher index.
            var ahead = 0
            for j in 0..<classes where scores[base + j] > score || (scores[base + j] == score && j > label) { ahead += 1 }
            if ahead < k { hits += 1 }
        }
        return Double(hits) / Double(labels.count)
    }

    /// `confusion_matrix`: counts[true][predicted].
    public static func confusionMatrix(predicted: [Int], labels: [Int], classes: Int) -> [[Int]] {
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, y) in zip(predicted, labels) { matrix[y][p] += 1 }
        return matrix
    }

    /// Per-class precision, recall, F1 and support, 0 where undefined (scikit-learn's
    /// `zero_division` default).
    public static func precisionRecallF1(confusion: [[Int]]) -> [(precision: Double, recall: Double, f1: Double, support: Int)] {
        let classes = confusion.count
        return (0..<classes).map { c in
            let truePositives = Double(confusion[c][c])
            let predicted = Double((0..<classes).reduce(0) { $0 + confusion[$1][c] })
            let support = confusion[c].reduce(0, +)
            let precision = predicted > 0 ? truePositives / predicted : 0
            let recall = support > 0 ? truePositives / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return (precision, recall, f1, support)
        }
    }

    /// `log_loss` as scikit-learn computes it from float32 probabilities: clipped to
    /// [eps, 1 - eps] with float32's machine epsilon, natural log and mean in float32, the mean
    /// summed pairwise as numpy sums.
    public static func logLoss(_ probabilities: [Float], labels: [Int], classes: Int) -> Double {
        let eps = Float.ulpOfOne
        let losses = labels.enumerated().map { row, label -> Float in
            let p = min(max(probabilities[row * classes + label], eps), 1 - eps)
            return -Foundation.log(p)
        }
        return Double(pairwiseSum(losses[...]) / Float(max(labels.count, 1)))
    }

    /// numpy's pairwise summation of float32 values (blocks of 128, eight accumulators).
    static func pairwiseSum(_ values: ArraySlice<Float>) -> Float {
        let n = values.count, start = values.startIndex
        if n < 8 {
            var sum: Float = 0
            for v in values { sum += v }
            return sum
        }
        if n <= 128 {
            var r = (0..<8).map { values[start + $0] }
            var i = 8
            while i < n - n % 8 {
                for j in 0..<8 { r[j] += values[start + i + j] }
                i += 8
            }
            var sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n {
                sum += values[start + i]
                i += 1
            }
            return sum
        }
        var half = n / 2
        half -= half % 8
        return pairwiseSum(values[start..<(start + half)]) + pairwiseSum(values[(start + half)...])
    }
}
