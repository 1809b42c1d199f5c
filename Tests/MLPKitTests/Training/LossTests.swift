import Foundation
import Testing
@testable import MLPKit

@Suite struct LossTests {
    /// Per-sample categorical cross-entropy against Keras 3, including probabilities of exactly
    /// 0 and 1, where Keras's clip to [1e-7, 1 - 1e-7] decides the value.
    @Test func matchesKeras() throws {
        let golden = try #require(try jsonFixture("keras/golden.json")["loss"] as? [String: Any])
        let p = try floats(golden["probabilities"])
        let labels = (try ints(golden["labels"])).map(Int32.init)
        let expected = try doubles(golden["per_sample"])
        for row in 0..<labels.count {
            let slice = Array(p[(row * 3)..<(row * 3 + 3)])
            let value = CategoricalCrossentropy.loss(probabilities: slice, labels: [labels[row]], rows: 1, classes: 3).loss
            #expect(abs(value - expected[row]) < 1e-5, "sample \(row): \(value) vs \(expected[row])")
        }
    }

    /// The fused softmax gradient (p - y) / rows against finite differences of the mean loss
    /// over logits.
    @Test func softmaxGradientMatchesFiniteDifferences() {
        let rows = 2, classes = 4
        let logits: [Float] = [0.5, -1.0, 2.0, 0.1, -0.3, 0.8, 0.0, 1.5]
        let labels: [Int32] = [2, 1]
        func meanLoss(_ z: [Float]) -> Double {
            var zz = z, p = [Float](repeating: 0, count: z.count)
            Activation.softmax.forward(&zz, &p, rows: rows, width: classes)
            return CategoricalCrossentropy.loss(probabilities: p, labels: labels, rows: rows, classes: classes).loss / Double(rows)
        }
        var zz = logits, p = [Float](repeating: 0, count: logits.count)
        Activation.softmax.forward(&zz, &p, rows: rows, width: classes)
        CategoricalCrossentropy.softmaxGradient(probabilities: &p, labels: labels, rows: rows, classes: classes)
        for (i, numeric) in finiteDifferences(of: meanLoss, at: logits, step: 1e-2).enumerated() {
            #expect(abs(numeric - Double(p[i])) < 1e-3, "logit \(i): \(numeric) vs \(p[i])")
        }
    }

    /// The general gradient with respect to probabilities, used when the model does not end in
    /// a Dense softmax, against finite differences.
    @Test func probabilityGradientMatchesFiniteDifferences() {
        let p: [Float] = [0.2, 0.5, 0.3, 0.6, 0.1, 0.3]
        let labels: [Int32] = [1, 2]
        var gradient = [Float](repeating: 0, count: 6)
        CategoricalCrossentropy.probabilityGradient(probabilities: p, labels: labels, rows: 2, classes: 3, into: &gradient)
        let meanLoss = { (q: [Float]) in CategoricalCrossentropy.loss(probabilities: q, labels: labels, rows: 2, classes: 3).loss / 2 }
        for (i, numeric) in finiteDifferences(of: meanLoss, at: p, step: 1e-3).enumerated() {
            #expect(abs(numeric - Double(gradient[i])) < 2e-3, "p[\(i)]: \(numeric) vs \(gradient[i])")
        }
    }
}
