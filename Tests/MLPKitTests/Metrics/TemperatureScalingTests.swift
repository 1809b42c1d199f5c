import Foundation
import Testing
@testable import MLPKit

/// Temperature scaling against hand calculations; the interop check compares the fitted
/// temperature with scipy's minimizer on Keras's logits of a real model.
@Suite struct TemperatureScalingTests {
    /// Logits (1, 0) on every row, three rows of class 0 and one of class 1: the log loss is least
    /// where softmax gives class 0 probability 3/4, σ(β) = 3/4, so β = ln 3 and T = 1 / ln 3.
    @Test func fitSolvesTheHandCase() throws {
        let logits: [Float] = [1, 0, 1, 0, 1, 0, 1, 0]
        let fit = try TemperatureScaling.fit(logits: logits, labels: [0, 0, 0, 1], classes: 2)
        #expect(abs(fit.temperature - 1 / log(3.0)) <= 1e-9, "\(fit.temperature)")
        // At T = 1: -(3 ln σ(1) + ln σ(-1)) / 4; at the optimum: the entropy of (3/4, 1/4).
        let sigmoid = { (x: Double) in 1 / (1 + exp(-x)) }
        #expect(abs(fit.logLossBefore - -(3 * log(sigmoid(1)) + log(sigmoid(-1))) / 4) <= 1e-12)
        #expect(abs(fit.logLossAfter - -(0.75 * log(0.75) + 0.25 * log(0.25))) <= 1e-12)
        #expect(fit.samples == 4)
    }

    /// Logits (1, 0) with three rows of class 1 and one of class 0: the labels' logits lie below
    /// the mean on average, the loss is least at T → ∞, and the fit refuses.
    @Test func fitRefusesAModelWorseThanChance() {
        #expect(throws: MLPError.self) { try TemperatureScaling.fit(logits: [1, 0, 1, 0, 1, 0, 1, 0], labels: [1, 1, 1, 0], classes: 2) }
    }

    /// Far from the optimum Newton's step overshoots; the halving still reaches it. Logits
    /// (20, 0) with one row in ten of class 1: σ(20β) = 9/10, β = ln 9 / 20.
    @Test func fitConvergesFromFarAway() throws {
        let logits = (0..<20).map { $0 % 2 == 0 ? Float(20) : 0 }
        let labels = (0..<10).map { $0 == 0 ? 1 : 0 }
        let fit = try TemperatureScaling.fit(logits: logits, labels: labels, classes: 2)
        #expect(abs(fit.temperature - 20 / log(9.0)) <= 1e-9, "\(fit.temperature)")
    }

    /// Dividing the last Dense layer by T gives softmax(logits / T), computed by hand from the
    /// weights; the argmax stays.
    @Test func applyDividesTheLogits() throws {
        let dense = Dense(name: "dense", inputs: 2, units: 3, activation: .softmax)
        let weights: [Float] = [0.5, -1, 2, 1.5, 0.25, -0.75], bias: [Float] = [0.1, 0.2, -0.3]
        dense.kernel.value.pointer.update(from: weights, count: 6)
        dense.bias?.value.pointer.update(from: bias, count: 3)
        let model = Sequential(inputShape: [2], layers: [dense])
        let input: [Float] = [1, 2]
        try TemperatureScaling.apply(2.5, to: model)
        let output = model.predict(input)
        let logits = (0..<3).map { j in Double(input[0] * weights[j] + input[1] * weights[3 + j] + bias[j]) / 2.5 }
        let total = logits.map { exp($0) }.reduce(0, +)
        for j in 0..<3 { #expect(abs(Double(output[j]) - exp(logits[j]) / total) <= 1e-6) }
    }

    /// Keras's other ending, Dense(linear) then Activation(softmax): the Dense is divided.
    @Test func applyDividesTheDenseBeforeASoftmaxActivation() throws {
        let dense = Dense(name: "dense", inputs: 2, units: 3, activation: .linear)
        let weights: [Float] = [0.5, -1, 2, 1.5, 0.25, -0.75], bias: [Float] = [0.1, 0.2, -0.3]
        dense.kernel.value.pointer.update(from: weights, count: 6)
        dense.bias?.value.pointer.update(from: bias, count: 3)
        let model = Sequential(inputShape: [2], layers: [dense, ActivationLayer(name: "softmax", shape: [3], activation: .softmax)])
        try TemperatureScaling.apply(0.5, to: model)
        let input: [Float] = [1, 2]
        let output = model.predict(input)
        let logits = (0..<3).map { j in Double(input[0] * weights[j] + input[1] * weights[3 + j] + bias[j]) / 0.5 }
        let total = logits.map { exp($0) }.reduce(0, +)
        for j in 0..<3 { #expect(abs(Double(output[j]) - exp(logits[j]) / total) <= 1e-6) }
        let relu = Sequential(inputShape: [2], layers: [Dense(name: "d", inputs: 2, units: 3, activation: .relu),
                                                        ActivationLayer(name: "softmax", shape: [3], activation: .softmax)])
        #expect(throws: MLPError.self) { try TemperatureScaling.apply(2, to: relu) }
    }

    @Test func refusesAModelWithoutSoftmax() {
        let model = Sequential(inputShape: [2], layers: [Dense(name: "dense", inputs: 2, units: 3, activation: .relu)])
        #expect(throws: MLPError.self) { try TemperatureScaling.apply(2, to: model) }
    }
}
