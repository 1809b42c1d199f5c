import Foundation

/// The softmax of an int8 QDQ model, as ONNX Runtime computes a Softmax between QuantizeLinear
/// and DequantizeLinear nodes (its QLinearSoftmax): a table of 256 exponentials of the uint8
/// input, shifted so that each row's largest input meets the table's top, summed in float32
/// in column order, and each output `round_half_even(e · ⌊1 / outputScale⌋ / sum)` plus the
/// output's zero point. Its probabilities are therefore not the float softmax's rounded: they
/// can fall one step lower, and the class ONNX Runtime ranks first follows this computation.
/// Read from ONNX files; not a Keras layer.
public final class QuantizedSoftmax: Int8ModelLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "QuantizedSoftmax" }
    public var parameters: [Parameter] { [] }
    public var outputActivation: Activation? { .softmax }
    public let input: UInt8Quantization
    public let output: UInt8Quantization
    private let table: [Float]
    private let result = FloatBuffer(count: 0)

    public init(name: String, width: Int, input: UInt8Quantization, output: UInt8Quantization) {
        self.name = name
        self.input = input
        self.output = output
        inputShape = [width]
        // exp((i − 255 + shift) · scale), the shift keeping a row's sum of up to `width` terms
        // below float32's largest value with 5 bits to spare.
        let shift = Swift.max(0, log(Double(Float.greatestFiniteMagnitude) / Double(width)) - 5) / Double(input.scale)
        table = (0..<256).map { Float(exp((Double($0) - 255 + shift) * Double(input.scale))) }
    }

    public var summarySetting: String { "\(inputWidth), uint8" }

    public func reserve(rows: Int, training: Bool) { result.reserve(rows * inputWidth) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let width = inputWidth
        result.reserve(rows * width)
        let y = result.pointer
        let steps = (Float(1) / output.scale).rounded(.down)
        var q = [Int](repeating: 0, count: width)
        for r in 0..<rows {
            for j in 0..<width { q[j] = Int(input.quantize(x[r * width + j])) }
            let offset = 255 - (q.max() ?? 0)
            var sum: Float = 0
            for j in 0..<width { sum += table[offset + q[j]] }
            for j in 0..<width {
                let level = Swift.min((table[offset + q[j]] * steps / sum).rounded(.toNearestOrEven) + Float(output.zeroPoint), 255)
                y[r * width + j] = (level - Float(output.zeroPoint)) * output.scale
            }
        }
        return UnsafePointer(y)
    }
}
