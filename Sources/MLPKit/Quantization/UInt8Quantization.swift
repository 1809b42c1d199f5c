import Foundation

/// How a QDQ model stores one tensor of activations in uint8: `q = clamp(round_half_even(x /
/// scale) + zeroPoint, 0, 255)`, read back as `(q − zeroPoint) · scale` (ONNX's QuantizeLinear
/// and DequantizeLinear, per tensor, as ONNX Runtime computes them).
public struct UInt8Quantization: Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: UInt8

    public init(scale: Float, zeroPoint: UInt8) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// The parameters ONNX Runtime's `compute_scale_zp` gives a tensor calibrated to [min, max]
    /// (MinMax, asymmetric uint8): the range widened to hold 0, its width over 255 in float64,
    /// the zero point `round_half_even(−min / scale)`, the scale stored as float32.
    public init(min: Float, max: Float) {
        let low = Double(Swift.min(min, 0)), high = Double(Swift.max(max, 0))
        let scale = (high - low) / 255
        guard scale >= Double(Float.leastNormalMagnitude) else {
            self.init(scale: 1, zeroPoint: 0)
            return
        }
        let zero = (0 - low / scale).rounded(.toNearestOrEven)
        self.init(scale: Float(scale), zeroPoint: UInt8(Swift.min(Swift.max(zero, 0), 255)))
    }

    /// QuantizeLinear of one value.
    @inline(__always)
    public func quantize(_ x: Float) -> UInt8 {
        let q = (x / scale).rounded(.toNearestOrEven) + Float(zeroPoint)
        return q.isNaN ? 0 : UInt8(Swift.min(Swift.max(q, 0), 255))
    }

    /// DequantizeLinear of one value.
    @inline(__always)
    public func dequantize(_ q: UInt8) -> Float { Float(Int32(q) - Int32(zeroPoint)) * scale }
}

/// ONNX's QuantizeLinear followed by DequantizeLinear on activations, per tensor: where a QDQ
/// model rounds values that a float operator then reads. Read from ONNX files (`mlp-eval
/// MODEL.onnx`); it has no weights and is not a Keras layer.
public final class QuantizeDequantize: Int8ModelLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let quantization: UInt8Quantization
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "QuantizeDequantize" }
    public var parameters: [Parameter] { [] }
    public var summarySetting: String { "uint8, scale \(quantization.scale), zero point \(quantization.zeroPoint)" }

    private let output = FloatBuffer(count: 0)

    public init(name: String, shape: [Int], quantization: UInt8Quantization) {
        self.name = name
        self.quantization = quantization
        inputShape = shape
    }

    public func reserve(rows: Int, training: Bool) { output.reserve(rows * outputWidth) }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        output.reserve(rows * outputWidth)
        let y = output.pointer
        for i in 0..<(rows * outputWidth) { y[i] = quantization.dequantize(quantization.quantize(input[i])) }
        return UnsafePointer(y)
    }
}

/// A layer of an int8 model read from an ONNX file: inference only, not a Keras layer, and not
/// exported again (the float model it came from is).
public protocol Int8ModelLayer: Layer {}

extension Int8ModelLayer {
    public var supportsTraining: Bool { false }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        preconditionFailure("\(name): an int8 model's layer does not train")
    }

    public func kerasConfig() -> [String: JSONValue] { baseConfig() }

    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        throw MLPError.model("\(name): an int8 model's layer is not exported again; export the float model it came from")
    }
}
