import Foundation

/// Keras's `categorical_crossentropy` on softmax outputs, averaged over the batch.
///
/// Per sample, Keras normalises the probabilities, clips them to [1e-7, 1 - 1e-7] and takes
/// `-sum(y · log p)`. With one-hot labels that is `-log(clip(p[label]))`, so labels are kept as
/// class indices, never as a (rows, classes) matrix.
public enum CategoricalCrossentropy {
    /// Keras's `backend.epsilon()`.
    public static let epsilon: Float = 1e-7

    /// The summed (not averaged) loss of `rows` samples and how many of them `argmax` gets right.
    ///
    /// probabilities is (rows, classes); labels is (rows).
    public static func loss(
        probabilities p: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int
    ) -> (loss: Double, correct: Int) {
        var total = 0.0, correct = 0
        for r in 0..<rows {
            let row = p + r * classes
            var sum: Float = 0, best = 0
            for j in 0..<classes {
                sum += row[j]
                if row[j] > row[best] { best = j }
            }
            let label = Int(labels[r])
            // A NaN stays NaN, as Keras's clip keeps it, so a diverged model shows in its loss.
            let ratio = row[label] / sum
            let q = ratio.isNaN ? ratio : min(max(ratio, epsilon), 1 - epsilon)
            total -= Double(log(q))
            if best == label { correct += 1 }
        }
        return (total, correct)
    }

    /// dL/dz of the batch-mean loss through a softmax output: (p - y) / rows, written over `p`.
    ///
    /// Fusing the two gradients avoids the softmax Jacobian; it equals Keras's gradient wherever
    /// the clip is inactive.
    public static func softmaxGradient(
        probabilities p: UnsafeMutablePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int
    ) {
        let scale = 1 / Float(rows)
        for r in 0..<rows {
            let row = p + r * classes
            for j in 0..<classes { row[j] *= scale }
            row[Int(labels[r])] -= scale
        }
    }

    /// dL/dp of the batch-mean loss for outputs that are not a fused softmax: -y / (p · rows),
    /// zero where the clip holds p fixed.
    public static func probabilityGradient(
        probabilities p: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int, classes: Int,
        into gradient: UnsafeMutablePointer<Float>
    ) {
        gradient.update(repeating: 0, count: rows * classes)
        for r in 0..<rows {
            let row = p + r * classes
            var sum: Float = 0
            for j in 0..<classes { sum += row[j] }
            let label = Int(labels[r])
            let q = row[label] / sum
            guard q > epsilon, q < 1 - epsilon else { continue }
            // L = -log(p_y / s): dL/dp_y = -1/p_y + 1/s, dL/dp_j = 1/s for j ≠ y.
            let g = gradient + r * classes
            for j in 0..<classes { g[j] = 1 / (sum * Float(rows)) }
            g[label] -= 1 / (row[label] * Float(rows))
        }
    }
}
