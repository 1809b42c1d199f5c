import CKernels
import Foundation
import Testing
@testable import MLPKit

/// Gradient checks: every layer's backward pass against central finite differences of the
/// model's mean cross-entropy, through a whole Sequential model.
@Suite struct LayerTests {
    /// Runs forward and backward on a small batch and compares every parameter's gradient (and
    /// so every layer's input gradient, which the earlier layers' gradients depend on) with
    /// finite differences.
    func checkGradients(_ model: Sequential, inputs: [Float], labels: [Int32], tolerance: Double = 3e-3,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let rows = labels.count
        func meanLoss() -> Double {
            let p = model.forward(inputs, rows: rows, training: false)
            return CategoricalCrossentropy.loss(probabilities: p, labels: labels, rows: rows, classes: model.outputWidth).loss
                / Double(rows)
        }
        _ = model.computeGradients(inputs, labels: labels, rows: rows)
        for parameter in model.trainableParameters {
            let analytic = parameter.gradient.array
            for i in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 13)) {
                let original = parameter.value.pointer[i]
                parameter.value.pointer[i] = original + 1e-3
                let plus = meanLoss()
                parameter.value.pointer[i] = original - 1e-3
                let minus = meanLoss()
                parameter.value.pointer[i] = original
                let numeric = (plus - minus) / 2e-3
                #expect(abs(numeric - Double(analytic[i])) < tolerance,
                        "\(parameter.name)[\(i)]: finite difference \(numeric), backward \(analytic[i])",
                        sourceLocation: sourceLocation)
            }
        }
    }

    func inputs(_ count: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in g.nextUnitFloat() * 2 - 1 }
    }

    @Test(arguments: Activation.allCases)
    func denseWithEachActivation(_ activation: Activation) {
        let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: activation),
                                                             HiddenLayerSpec(units: 4, activation: activation)],
                                   classes: 3, seed: 42)
        checkGradients(model, inputs: inputs(4 * 6, seed: 1), labels: [0, 2, 1, 2])
    }

    /// ReLU units that are off for the whole batch take the packed backward path (their
    /// products skipped): its gradients against finite differences and against the dense path,
    /// over batches in which different units are off.
    @Test func inactiveReLUUnitsAreSkipped() {
        let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 12, activation: .relu),
                                                             HiddenLayerSpec(units: 10, activation: .relu)],
                                   classes: 3, seed: 11)
        // Biases far below zero switch units off for every sample: 5 of 12, then 4 of 10.
        for j in [1, 4, 5, 8, 11] { model.parameters[1].value.pointer[j] = -50 }
        for j in [0, 3, 6, 9] { model.parameters[3].value.pointer[j] = -50 }
        let x = inputs(5 * 6, seed: 3), labels: [Int32] = [0, 2, 1, 2, 0]
        func gradients(dense: Bool) -> [[Float]] {
            model.compute = ComputeOptions(threads: 1, skipsInactiveUnits: !dense)
            _ = model.computeGradients(x, labels: labels, rows: labels.count)
            return model.trainableParameters.map(\.gradient.array)
        }
        func expectClose(_ a: [[Float]], _ b: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) {
            for (p, q) in checkedZip(a, b) {
                #expect(checkedZip(p, q).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }, sourceLocation: sourceLocation)
            }
        }
        checkGradients(model, inputs: x, labels: labels)
        let first = gradients(dense: false)
        let activeColumns = Set(first[0].indices.filter { first[0][$0] != 0 }.map { $0 % 12 })
        #expect(!activeColumns.isEmpty && activeColumns.isDisjoint(with: [1, 4, 5, 8, 11]))
        expectClose(gradients(dense: true), first)

        // Unit 1 back on and unit 2 off: unit 2's column, written before, must now be zero.
        _ = gradients(dense: false)
        model.parameters[1].value.pointer[1] = 0.5
        model.parameters[1].value.pointer[2] = -50
        let second = gradients(dense: false)
        #expect((0..<6).contains { first[0][$0 * 12 + 2] != 0 } && (0..<6).allSatisfy { second[0][$0 * 12 + 2] == 0 })
        checkGradients(model, inputs: x, labels: labels)
        expectClose(gradients(dense: true), second)
    }

    /// Inference-mode Dropout is the identity; in training mode the mask is fixed per forward
    /// pass, so a training-mode backward is checked against a mask held constant.
    @Test func dropoutScalesAndMasks() {
        let dropout = Dropout(name: "dropout", shape: [1000], rate: 0.25, seed: 9)
        dropout.reserve(rows: 1, training: true)
        let x = [Float](repeating: 1, count: 1000)
        let inference = Array(UnsafeBufferPointer(start: dropout.forward(x, rows: 1, training: false), count: 1000))
        #expect(inference == x)
        let training = Array(UnsafeBufferPointer(start: dropout.forward(x, rows: 1, training: true), count: 1000))
        let kept = training.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect((700...800).contains(kept.count), "kept \(kept.count) of 1000 at rate 0.25")
        var gradient = [Float](repeating: 2, count: 1000)
        let back = dropout.backward(&gradient, rows: 1, needInputGradient: true)!
        for i in 0..<1000 { #expect(back[i] == 2 * training[i]) }
    }

    /// A large batch splits its mask over the cores and gets the same mask on one core: each
    /// value's draw depends on the batch's key and its position only. The kept fraction is the
    /// rate's (65,536 values: 0.75 within 1%), and the next batch draws a new mask.
    @Test func dropoutMaskIsTheSameOnAnyNumberOfCores() {
        let x = [Float](repeating: 1, count: 16 * 4096)
        func masks(threads: Int) -> [[Float]] {
            let dropout = Dropout(name: "dropout", shape: [4096], rate: 0.25, seed: 3)
            dropout.configure(compute: ComputeOptions(threads: threads))
            dropout.reserve(rows: 16, training: true)
            return (0..<2).map { _ in Array(UnsafeBufferPointer(start: dropout.forward(x, rows: 16, training: true), count: x.count)) }
        }
        let one = masks(threads: 1), two = masks(threads: 2)
        #expect(one == two)
        #expect(one[0] != one[1])
        let kept = Double(one[0].filter { $0 != 0 }.count) / Double(x.count)
        #expect(abs(kept - 0.75) < 0.01, "kept \(kept)")
    }

    /// The dropout pass, sixteen values at a time (AVX-512), eight (AVX2) and one by one,
    /// gives the same bits for every value, from any even start, as SplitMix64's finaliser
    /// written out here: value 2p kept when the low 32 bits of pair p's draw are below the
    /// threshold, 2p + 1 by the high 32 bits. Zeros, infinities and NaN are multiplied as such.
    @Test func dropoutPassesAgreeWithTheDefinition() {
        func finalise(_ value: UInt64) -> UInt64 {
            var z = value
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let n = 16 * 9 + 7, key: UInt64 = 0x0123_4567_89AB_CDEF, scale = Float(1) / 0.7
        var x = (0..<n).map { Float($0) * 0.37 - 20 }
        x[3] = .infinity
        x[20] = -.infinity
        x[33] = .nan
        x[40] = -0.0
        for threshold in [UInt64(0), UInt64(0.7 * 4_294_967_296), UInt64(1) << 32] {
            var expected = [Float](repeating: 0, count: n), mask = expected
            for i in 0..<n {
                let bits = finalise(key &+ UInt64(i >> 1) &* 0x9E37_79B9_7F4A_7C15)
                mask[i] = (i % 2 == 0 ? bits & 0xFFFF_FFFF : bits >> 32) < threshold ? scale : 0
                expected[i] = x[i] * mask[i]
            }
            for begin in [0, 2, 18, 30] {
                for pass in [mlp_dropout, mlp_dropout_avx2_or_portable, mlp_dropout_portable] {
                    var y = [Float](repeating: 7, count: n), m = [Float](repeating: 7, count: n)
                    pass(x, &y, &m, begin, n, key, threshold, scale)
                    #expect(y[..<begin].allSatisfy { $0 == 7 } && m[..<begin].allSatisfy { $0 == 7 })
                    #expect(zip(y[begin...], expected[begin...]).allSatisfy { $0.bitPattern == $1.bitPattern },
                            "threshold \(threshold), from \(begin)")
                    #expect(m[begin...] == mask[begin...], "threshold \(threshold), from \(begin)")
                }
            }
        }
    }

    /// ReLU's backward, eight values at a time and the tail one by one, against its definition:
    /// the gradient passes where the activation is above 0 (or NaN), and is 0 elsewhere.
    @Test func reluBackwardByDefinition() {
        let n = 8 * 5 + 3
        let a: [Float] = (0..<n).map { (i: Int) -> Float in
            if i == 9 { return .nan }
            return i % 3 == 0 ? 0 : Float(i % 5) - 2
        }
        let g: [Float] = (0..<n).map { Float($0) + 0.5 }
        var grad = g
        a.withUnsafeBufferPointer { a in
            Activation.relu.backward(&grad, z: a.baseAddress!, a: a.baseAddress!, rows: 1, width: n)
        }
        for i in 0..<n { #expect(grad[i] == (a[i] > 0 || a[i].isNaN ? g[i] : 0), "value \(i)") }
    }

    /// Activation, Rescaling and Flatten layers in the path, as in a model read from Keras.
    @Test func standaloneLayersInTheChain() {
        let flatten = Flatten(name: "flatten", inputShape: [2, 2, 2])
        let rescaling = Rescaling(name: "rescaling", shape: [8], scale: 0.5, offset: 0.1)
        let dense = Dense(name: "dense", inputs: 8, units: 5, activation: .linear)
        let tanh = ActivationLayer(name: "activation", shape: [5], activation: .tanh)
        let output = Dense(name: "dense_1", inputs: 5, units: 3, activation: .linear)
        let softmax = ActivationLayer(name: "activation_1", shape: [3], activation: .softmax)
        let model = Sequential(inputShape: [2, 2, 2], layers: [flatten, rescaling, dense, tanh, output, softmax])
        model.initialize(seed: 5)
        checkGradients(model, inputs: inputs(3 * 8, seed: 2), labels: [1, 0, 2])
    }

    /// Keras's glorot-uniform bound, sqrt(6 / (fan_in + fan_out)), and the same seed giving
    /// bit-identical weights.
    @Test func initialisation() {
        let a = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 128, activation: .relu)], classes: 100, seed: 7)
        let b = Sequential.mlp(inputShape: [3072], hidden: [HiddenLayerSpec(units: 128, activation: .relu)], classes: 100, seed: 7)
        let kernel = a.parameters[0].value.array
        let limit = Float((6.0 / (3072.0 + 128.0)).squareRoot())
        #expect(kernel.allSatisfy { abs($0) <= limit })
        #expect(kernel.max()! > 0.99 * limit && kernel.min()! < -0.99 * limit)
        #expect(a.parameters[1].value.array.allSatisfy { $0 == 0 })
        #expect(checkedZip(a.parameters, b.parameters).allSatisfy { $0.value.array == $1.value.array })
        #expect(a.parameters.map(\.count) == [393_216, 128, 12_800, 100])
    }

    /// One RMSprop step of Dense(5, relu) → Dense(3, softmax) from Keras's initial weights
    /// against Keras 3's `train_on_batch`: the loss and every weight afterwards.
    @Test func trainStepMatchesKeras() throws {
        let golden = try #require(try jsonFixture("keras/golden.json")["train_step"] as? [String: Any])
        let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: .relu)], classes: 3, seed: 0)
        for (parameter, values) in checkedZip(model.parameters, try #require(golden["before"] as? [Any])) { try fill(parameter.value, from: values) }
        let labels = (try ints(golden["labels"])).map(Int32.init)
        let optimizer = RMSprop(learningRate: 0.01)
        optimizer.build(for: model.trainableParameters)
        let result = model.computeGradients(try floats(golden["x"]), labels: labels, rows: labels.count)
        optimizer.apply(to: model.trainableParameters)
        let kerasLoss = (golden["loss"] as? NSNumber)?.doubleValue ?? .nan
        #expect(abs(result.loss / Double(labels.count) - kerasLoss) < 1e-6)
        for (parameter, values) in checkedZip(model.parameters, try #require(golden["after"] as? [Any])) {
            #expect(maxDifference(parameter.value.array, try floats(values)) < 1e-6, "\(parameter.name)")
        }
    }
}
