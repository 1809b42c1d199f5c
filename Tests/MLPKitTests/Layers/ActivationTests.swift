import Foundation
import Testing
@testable import MLPKit

@Suite struct ActivationTests {
    /// Forward values against Keras 3's own `keras.activations` on 17 points in [-4, 4].
    @Test(arguments: Activation.allCases)
    func forwardMatchesKeras(_ activation: Activation) throws {
        let golden = try #require(try jsonFixture("keras/golden.json")["activations"] as? [String: Any])
        var x = try floats(golden["x"])
        var a = [Float](repeating: 0, count: x.count)
        activation.forward(&x, &a, rows: 1, width: x.count)
        #expect(maxDifference(a, try floats(golden[activation.rawValue])) < 2e-6)
    }

    /// Backward against central finite differences of L = sum(w · f(z)) for fixed weights w.
    @Test(arguments: Activation.allCases)
    func backwardMatchesFiniteDifferences(_ activation: Activation) {
        let rows = 2, width = 5
        let z: [Float] = [-2.1, -0.7, -0.05, 0.3, 1.6, 2.4, -1.3, 0.9, 0.02, -3.0]
        let w: [Float] = [0.3, -1.2, 0.8, 0.5, -0.4, 1.1, 0.7, -0.9, 0.2, 0.6]
        func loss(_ input: [Float]) -> Double {
            var zz = input, a = [Float](repeating: 0, count: input.count)
            activation.forward(&zz, &a, rows: rows, width: width)
            return zip(a, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        var zz = z, a = [Float](repeating: 0, count: z.count)
        activation.forward(&zz, &a, rows: rows, width: width)
        var grad = w
        activation.backward(&grad, z: zz, a: a, rows: rows, width: width)
        for (i, numeric) in finiteDifferences(of: loss, at: z, step: 1e-2).enumerated() {
            #expect(abs(numeric - Double(grad[i])) < 2e-3, "\(activation) at z = \(z[i]): \(numeric) vs \(grad[i])")
        }
    }
}
