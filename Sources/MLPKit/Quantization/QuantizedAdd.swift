import Foundation

/// The Add of a uint8 constant (a bias) in an int8 QDQ model, as ONNX Runtime computes the
/// QLinearAdd it fuses with its QuantizeLinear and DequantizeLinear nodes (MLAS's x86 kernel):
/// each value `a` and its column's constant `b` give
/// `c = clamp(round_half_even(fma(a, sA/sC, fma(b, sB/sC, zC − fma(sA/sC, zA, sB/sC · zB)))), 0, 255)`
/// in float32, the fixed part's product fused as the compiler fuses it there (compared with
/// ONNX Runtime on 2,220,000 random values: 0 differ; without that fusion, 6 do). It hands on
/// the dequantized output. Read from ONNX files; not a Keras layer.
public final class QuantizedAdd: Int8ModelLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "QuantizedAdd" }
    /// The constant, as its element count shows it.
    public let parameters: [Parameter]
    public let input: UInt8Quantization
    public let output: UInt8Quantization
    /// The uint8 constant, one per column, and how it is quantized.
    public let constant: [UInt8]
    public let constantQuantization: UInt8Quantization

    private let ratioA: Float, ratioB: Float, fixed: Float
    private let result = FloatBuffer(count: 0)

    public init(name: String, input: UInt8Quantization, constant: [UInt8], constantQuantization: UInt8Quantization, output: UInt8Quantization) {
        self.name = name
        self.input = input
        self.output = output
        self.constant = constant
        self.constantQuantization = constantQuantization
        inputShape = [constant.count]
        parameters = [Parameter(name: "bias", shape: [constant.count])]
        ratioA = input.scale / output.scale
        ratioB = constantQuantization.scale / output.scale
        fixed = Float(output.zeroPoint) - (ratioB * Float(constantQuantization.zeroPoint)).addingProduct(ratioA, Float(input.zeroPoint))
    }

    public var summarySetting: String { "\(constant.count), uint8" }

    public func reserve(rows: Int, training: Bool) { result.reserve(rows * inputWidth) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let width = inputWidth
        result.reserve(rows * width)
        let y = result.pointer
        let zero = Float(output.zeroPoint)
        for r in 0..<rows {
            for j in 0..<width {
                let a = Float(input.quantize(x[r * width + j]))
                let value = (fixed.addingProduct(Float(constant[j]), ratioB)).addingProduct(a, ratioA)
                let q = Swift.min(Swift.max(value.rounded(.toNearestOrEven), 0), 255)
                y[r * width + j] = (q - zero) * output.scale
            }
        }
        return UnsafePointer(y)
    }
}
