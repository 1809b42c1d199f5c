import Foundation

/// A Dense layer of an int8 QDQ model, computed as ONNX Runtime computes the Gemm it fuses with
/// its QuantizeLinear and DequantizeLinear nodes (QGemm): the input quantized to uint8, the
/// products summed exactly in int32 by oneDNN's u8·s8 integer product (`dnnl_gemm_u8s8s32`,
/// VNNI where the CPU has it) with the int32 bias, and each sum requantized to the output's
/// uint8 by `round_half_even(sum · (inputScale · weightScale / outputScale))` in float32. It
/// hands on the dequantized output, which the next layer reads back exactly.
///
/// An activation clipped by the output's range (a ReLU whose zero point is 0) needs no node of
/// its own, as in ONNX Runtime's QDQ graphs. Read from ONNX files; not a Keras layer.
public final class QuantizedDense: Int8ModelLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let units: Int
    public let inputShape: [Int]
    public var outputShape: [Int] { [units] }
    public var kerasClassName: String { "QuantizedDense" }
    /// The int8 kernel (inputs, units) and int32 bias, as their weights' element counts show them.
    public let parameters: [Parameter]
    public let input: UInt8Quantization
    public let output: UInt8Quantization
    /// (inputs, units), row-major.
    public let weights: [Int8]
    /// One scale per unit (per output channel); the zero points are 0.
    public let weightScales: [Float]
    public let bias: [Int32]
    /// `inputScale · weightScale[j] / outputScale`, in float32 and in that order, per unit.
    private let multipliers: [Float]

    private var quantized = [UInt8]()
    private var sums = [Int32]()
    private let result = FloatBuffer(count: 0)

    public init(name: String, input: UInt8Quantization, weights: [Int8], inputs: Int, units: Int, weightScales: [Float],
                bias: [Int32], output: UInt8Quantization) {
        precondition(weights.count == inputs * units && weightScales.count == units && bias.count == units)
        self.name = name
        self.input = input
        self.output = output
        self.weights = weights
        self.weightScales = weightScales
        self.bias = bias
        self.units = units
        inputShape = [inputs]
        multipliers = weightScales.map { input.scale * $0 / output.scale }
        parameters = [Parameter(name: "kernel", shape: [inputs, units]), Parameter(name: "bias", shape: [units])]
    }

    public var summarySetting: String { "\(units), int8" }

    public func reserve(rows: Int, training: Bool) {
        quantized.reserveCapacity(rows * inputWidth)
        sums.reserveCapacity(rows * units)
        result.reserve(rows * units)
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let inputs = inputWidth
        if quantized.count < rows * inputs { quantized = [UInt8](repeating: 0, count: rows * inputs) }
        if sums.count < rows * units { sums = [Int32](repeating: 0, count: rows * units) }
        result.reserve(rows * units)
        for i in 0..<(rows * inputs) { quantized[i] = input.quantize(x[i]) }
        let status = quantized.withUnsafeBufferPointer { a in
            weights.withUnsafeBufferPointer { b in
                sums.withUnsafeMutableBufferPointer { c in
                    bias.withUnsafeBufferPointer { offsets in
                        integerProduct(m: rows, n: units, k: inputs, a: a.baseAddress!, aZero: input.zeroPoint, b: b.baseAddress!,
                                       c: c.baseAddress!, columnOffsets: offsets.baseAddress!)
                    }
                }
            }
        }
        precondition(status == 0, "oneDNN's integer product failed with status \(status)")
        let y = result.pointer
        let zero = Float(output.zeroPoint)
        for r in 0..<rows {
            for j in 0..<units {
                let index = r * units + j
                let q = Swift.min(Swift.max((Float(sums[index]) * multipliers[j]).rounded(.toNearestOrEven) + zero, 0), 255)
                y[index] = (q - zero) * output.scale
            }
        }
        return UnsafePointer(y)
    }
}
