import Foundation

/// Keras's `Dense`: `a = activation(x · kernel + bias)`.
///
/// x is (rows, inputs), kernel is (inputs, units), bias is (units), a is (rows, units).
public final class Dense: Layer {
    public var name: String
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernel: Parameter
    public let bias: Parameter?
    public let inputShape: [Int]
    public var outputShape: [Int] { [units] }
    public var kerasClassName: String { "Dense" }
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    // z is the pre-activation; a aliases z when backward needs only a.
    private let z = FloatBuffer(count: 0)
    private let a: FloatBuffer
    private let inputGradient = FloatBuffer(count: 0)
    private var lastInput: UnsafePointer<Float>?

    public init(name: String, inputs: Int, units: Int, activation: Activation = .linear, useBias: Bool = true) {
        self.name = name
        self.units = units
        self.activation = activation
        self.useBias = useBias
        inputShape = [inputs]
        kernel = Parameter(name: "kernel", shape: [inputs, units])
        bias = useBias ? Parameter(name: "bias", shape: [units]) : nil
        a = activation.needsPreActivation ? FloatBuffer(count: 0) : z
    }

    /// Keras's default initialisation: glorot-uniform kernel, zero bias.
    public func initialize(using generator: inout SeededGenerator) {
        let limit = (6 / Float(inputShape[0] + units)).squareRoot()
        let w = kernel.value.pointer
        for i in 0..<kernel.count { w[i] = (generator.nextUnitFloat() * 2 - 1) * limit }
        bias?.value.fill(0)
    }

    public func reserve(rows: Int) {
        z.reserve(rows * units)
        a.reserve(rows * units)
        inputGradient.reserve(rows * inputShape[0])
    }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let inputs = inputShape[0]
        lastInput = input
        sgemm(m: rows, n: units, k: inputs, a: input, lda: inputs,
              b: kernel.value.pointer, ldb: units, c: z.pointer, ldc: units)
        activation.forward(z.pointer, a.pointer, rows: rows, width: units, bias: bias?.value.pointer)
        return UnsafePointer(a.pointer)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        activation.backward(outputGradient, z: z.pointer, a: a.pointer, rows: rows, width: units)
        return backward(preActivationGradient: outputGradient, rows: rows, needInputGradient: needInputGradient)
    }

    /// Backward from dL/dz, for a loss that fuses its gradient with this layer's activation.
    public func backward(preActivationGradient dz: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        guard let x = lastInput else { preconditionFailure("Dense.backward before forward") }
        let inputs = inputShape[0]
        // dkernel (inputs, units) = xᵀ (inputs, rows) · dz (rows, units)
        sgemm(transposeA: true, m: inputs, n: units, k: rows, a: x, lda: inputs,
              b: dz, ldb: units, c: kernel.gradient.pointer, ldc: units)
        if let bias {
            let db = bias.gradient.pointer
            db.update(repeating: 0, count: units)
            for r in 0..<rows {
                let row = dz + r * units
                for j in 0..<units { db[j] += row[j] }
            }
        }
        guard needInputGradient else { return nil }
        // dx (rows, inputs) = dz (rows, units) · kernelᵀ (units, inputs)
        sgemm(transposeB: true, m: rows, n: inputs, k: units, a: dz, lda: units,
              b: kernel.value.pointer, ldb: units, c: inputGradient.pointer, ldc: inputs)
        return inputGradient.pointer
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["units"] = units
        config["activation"] = activation.rawValue
        config["use_bias"] = useBias
        config["kernel_initializer"] = ["class_name": "GlorotUniform", "config": ["seed": NSNull()]] as [String: Any]
        config["bias_initializer"] = ["class_name": "Zeros", "config": [String: Any]()] as [String: Any]
        for key in ["kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"] {
            config[key] = NSNull()
        }
        return config
    }
}
