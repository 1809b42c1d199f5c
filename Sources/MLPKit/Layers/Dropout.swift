import Foundation

/// Keras's `Dropout`: while training, zero each value with probability `rate` and scale the
/// survivors by 1 / (1 - rate) (inverted dropout); at inference, pass values through unchanged.
public final class Dropout: Layer {
    public var name: String
    public let rate: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var kerasClassName: String { "Dropout" }
    public var parameters: [Parameter] { [] }

    private let output = FloatBuffer(count: 0)
    // mask holds 0 or 1 / (1 - rate) per value of the latest training batch.
    private let mask = FloatBuffer(count: 0)
    private var generator: SeededGenerator
    private var masked = false

    public init(name: String, shape: [Int], rate: Float, seed: UInt64 = 0) {
        self.name = name
        self.rate = rate
        inputShape = shape
        generator = SeededGenerator(seed: seed)
    }

    public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

    public func reserve(rows: Int, training: Bool) {
        // Inference passes the input through: the buffers serve training only.
        guard training else { return }
        output.reserve(rows * outputWidth)
        mask.reserve(rows * outputWidth)
    }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        masked = training && rate > 0
        guard masked else { return input }
        let n = rows * outputWidth, keep = 1 - rate, scale = 1 / keep
        let m = mask.pointer, y = output.pointer
        // Each 64-bit draw decides two values: kept when its 32-bit half is below keep · 2^32.
        let threshold = UInt64((Double(keep) * 4_294_967_296).rounded(.down))
        var g = generator
        var i = 0
        while i < n {
            let bits = g.next()
            let first: Float = UInt64(bits & 0xFFFF_FFFF) < threshold ? scale : 0
            m[i] = first
            y[i] = input[i] * first
            if i + 1 < n {
                let second: Float = (bits >> 32) < threshold ? scale : 0
                m[i + 1] = second
                y[i + 1] = input[i + 1] * second
            }
            i += 2
        }
        generator = g
        return UnsafePointer(y)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        guard needInputGradient else { return nil }
        if masked {
            let m = mask.pointer
            for i in 0..<(rows * outputWidth) { outputGradient[i] *= m[i] }
        }
        return outputGradient
    }

    public func kerasConfig() -> [String: Any] {
        var config = baseConfig()
        config["rate"] = rate.decimalDouble
        config["noise_shape"] = NSNull()
        config["seed"] = NSNull()
        return config
    }
}
