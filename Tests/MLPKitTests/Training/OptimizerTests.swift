import Foundation
import Testing
import CKernels
@testable import MLPKit

@Suite struct OptimizerTests {
    nonisolated(unsafe) static let cases: [(String, () -> Optimizer)] = [
        ("rmsprop", { RMSprop() }),
        ("rmsprop_momentum_centered", { RMSprop(learningRate: 0.01, momentum: 0.9, centered: true) }),
        ("sgd", { SGD() }),
        ("sgd_momentum", { SGD(learningRate: 0.1, momentum: 0.9) }),
        ("sgd_nesterov", { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true) }),
        ("adam", { Adam() }),
        ("adamw", { Adam(learningRate: 0.01, weightDecay: 0.004) }),
    ]

    /// Three steps on a (3, 4) variable with fixed gradients, against Keras 3's
    /// `apply_gradients` with the same settings.
    @Test(arguments: 0..<cases.count)
    func stepsMatchKeras(_ index: Int) throws {
        let (name, make) = Self.cases[index]
        let golden = try #require(try jsonFixture("keras/golden.json")["optimizers"] as? [String: Any])
        let expected = try #require((golden["after_steps"] as? [String: Any])?[name] as? [Any])
        let parameter = Parameter(name: "kernel", shape: [3, 4])
        try fill(parameter.value, from: golden["initial"])
        let optimizer = make()
        optimizer.build(for: [parameter])
        for (step, gradient) in (try #require(golden["gradients"] as? [Any])).enumerated() {
            try fill(parameter.gradient, from: gradient)
            optimizer.apply(to: [parameter])
            let difference = maxDifference(parameter.value.array, try floats(expected[step]))
            #expect(difference < 1e-6, "\(name) step \(step + 1): off by \(difference)")
        }
        #expect(optimizer.iterations == 3)
    }

    /// The vectorised RMSprop pass on a buffer large enough to be split over the cores, with
    /// whole blocks and single lanes of zero gradient and a ragged tail, against the update
    /// rule computed one value at a time in the same order.
    @Test func rmspropPassMatchesTheRule() {
        let count = 300_007
        var generator = SeededGenerator(seed: 21)
        let weights = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        let gradients = (0..<count).map { i -> Float in
            (i / 8) % 3 == 0 || i % 5 == 0 ? 0 : (generator.nextUnitFloat() - 0.5) * 0.01
        }
        let parameter = Parameter(name: "kernel", shape: [count])
        parameter.value.assign(weights)
        let optimizer = RMSprop()
        optimizer.build(for: [parameter])
        var w = weights, v = [Float](repeating: 0, count: count)
        let rho: Float = 0.9, learningRate: Float = 0.001, epsilon: Float = 1e-7
        for _ in 0..<2 {
            parameter.gradient.assign(gradients)
            optimizer.apply(to: [parameter])
            for i in 0..<count {
                v[i] = rho * v[i] + (1 - rho) * gradients[i] * gradients[i]
                w[i] -= learningRate * gradients[i] / (v[i] + epsilon).squareRoot()
            }
        }
        let valueMismatches = zip(parameter.value.array, w).enumerated().filter { $0.element.0 != $0.element.1 }
        let velocityMismatches = zip(optimizer.slots[0]["velocity"]!.array, v).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(valueMismatches.isEmpty, "\(valueMismatches.count) weights differ, first \(valueMismatches.prefix(3))")
        #expect(velocityMismatches.isEmpty, "\(velocityMismatches.count) velocities differ, first \(velocityMismatches.prefix(3))")

        // The pass for CPUs without AVX2 gives the same floats.
        var portableW = weights, portableV = [Float](repeating: 0, count: count)
        for _ in 0..<2 { mlp_rmsprop_step_portable(&portableW, &portableV, gradients, count, learningRate, rho, epsilon) }
        #expect(portableW == w && portableV == v)
    }

    /// The Adam and AdamW pass, vectorised, against the pass for CPUs without AVX2 and the rule
    /// written out, over 300,007 values (a ragged tail) and three steps.
    @Test(arguments: [nil, Float(0.004)])
    func adamPassMatchesTheRule(_ weightDecay: Float?) {
        let count = 300_007
        var generator = SeededGenerator(seed: 22)
        let weights = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        let gradients = (0..<count).map { i -> Float in i % 7 == 0 ? 0 : (generator.nextUnitFloat() - 0.5) * 0.01 }
        let parameter = Parameter(name: "kernel", shape: [count])
        parameter.value.assign(weights)
        let optimizer = Adam(learningRate: 0.01, weightDecay: weightDecay)
        optimizer.build(for: [parameter])
        var w = weights, m = [Float](repeating: 0, count: count), v = m
        var portableW = weights, portableM = m, portableV = m
        for step in 1...3 {
            parameter.gradient.assign(gradients)
            optimizer.apply(to: [parameter], threads: 2)
            let t = Float(step), lr: Float = 0.01, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-7
            let alpha = lr * (1 - pow(b2, t)).squareRoot() / (1 - pow(b1, t)), decay = (weightDecay ?? 0) * lr
            for i in 0..<count {
                if decay != 0 { w[i] -= w[i] * decay }
                m[i] += (gradients[i] - m[i]) * (1 - b1)
                v[i] += (gradients[i] * gradients[i] - v[i]) * (1 - b2)
                w[i] -= m[i] * alpha / (v[i].squareRoot() + eps)
            }
            mlp_adam_step_portable(&portableW, &portableM, &portableV, gradients, count, alpha, b1, b2, eps, decay)
        }
        #expect(parameter.value.array == w && optimizer.slots[0]["momentum"]!.array == m && optimizer.slots[0]["velocity"]!.array == v)
        #expect(portableW == w && portableM == m && portableV == v)
    }

    /// Keras's defaults, which the notebook relies on.
    @Test func kerasDefaults() {
        let rmsprop = RMSprop()
        #expect(rmsprop.learningRate == 0.001 && rmsprop.rho == 0.9 && rmsprop.epsilon == 1e-7 && rmsprop.momentum == 0)
        #expect(SGD().learningRate == 0.01)
        #expect(OptimizerKind(rawValue: "adamw")!.make().kerasClassName == "AdamW")
    }
}
