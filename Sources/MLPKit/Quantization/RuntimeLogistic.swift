import Foundation

/// The logistic function as ONNX Runtime's CPU kernels compute it (MLAS's x86 kernel, Eigen's
/// rational approximation with fused multiply-adds): the input clamped to [−18, 18], x·P(x²)/Q(x²)
/// + ½, clamped to [0, 1]. Equal to ONNX Runtime's Sigmoid bit for bit (`Int8Tests`), where the
/// exact function rounded to float32 differs on most inputs in the last bits; an int8 model's
/// outputs, which round those values to uint8, follow it.
enum RuntimeLogistic {
    private static let alpha: [Float] = [4.37031012579801e-11, 1.15627324459942e-07, 6.08574864600143e-05, 8.51377133304701e-03,
                                         2.48287947061529e-01]
    private static let beta: [Float] = [6.10247389755681e-13, 5.76102136993427e-09, 6.29106785017040e-06, 1.70198817374094e-03,
                                        1.16817656904453e-01, 9.93151921023180e-01]

    /// One value.
    @inline(__always)
    static func value(_ x: Float) -> Float {
        guard !x.isNaN else { return x }
        let v = Swift.min(Swift.max(x, -18), 18)
        let s = v * v
        var p = alpha[1].addingProduct(s, alpha[0])
        for c in alpha[2...] { p = c.addingProduct(p, s) }
        p *= v
        var q = beta[1].addingProduct(s, beta[0])
        for c in beta[2...] { q = c.addingProduct(q, s) }
        return Swift.min(Swift.max(p / q + 0.5, 0), 1)
    }

    static func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = value(x[i]) }
    }
}

/// A Sigmoid between the QuantizeLinear and DequantizeLinear nodes of an int8 QDQ model,
/// computed as ONNX Runtime computes it (`RuntimeLogistic`). Read from ONNX files; not a Keras
/// layer.
public final class RuntimeSigmoid: Int8ModelLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "RuntimeSigmoid" }
    public var parameters: [Parameter] { [] }
    private let output = FloatBuffer(count: 0)

    public init(name: String, width: Int) {
        self.name = name
        inputShape = [width]
    }

    public func reserve(rows: Int, training: Bool) { output.reserve(rows * outputWidth) }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        output.reserve(rows * outputWidth)
        RuntimeLogistic.apply(input, output.pointer, count: rows * outputWidth)
        return UnsafePointer(output.pointer)
    }
}
