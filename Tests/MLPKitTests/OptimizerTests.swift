import Foundation
import Testing
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
        parameter.value.assign(floats(golden["initial"]))
        let optimizer = make()
        optimizer.build(for: [parameter])
        for (step, gradient) in (golden["gradients"] as? [Any] ?? []).enumerated() {
            parameter.gradient.assign(floats(gradient))
            optimizer.apply(to: [parameter])
            let difference = maxDifference(parameter.value.array, floats(expected[step]))
            #expect(difference < 1e-6, "\(name) step \(step + 1): off by \(difference)")
        }
        #expect(optimizer.iterations == 3)
    }

    /// Keras's defaults, which the notebook relies on.
    @Test func kerasDefaults() {
        let rmsprop = RMSprop()
        #expect(rmsprop.learningRate == 0.001 && rmsprop.rho == 0.9 && rmsprop.epsilon == 1e-7 && rmsprop.momentum == 0)
        #expect(SGD().learningRate == 0.01)
        #expect(OptimizerKind.adamw.make().kerasClassName == "AdamW")
    }
}
