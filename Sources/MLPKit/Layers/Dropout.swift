import CKernels
import Foundation

/// Keras's `Dropout`: while training, zero each value with probability `rate` and scale the
/// survivors by 1 / (1 - rate) (inverted dropout); at inference, pass values through unchanged.
public final class Dropout: RegisteredLayer {
    public var name: String
    public var dtypePolicy = DTypePolicy.float32
    public let rate: Float
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public static let kerasClassName = "Dropout"
    public var parameters: [Parameter] { [] }

    private let output = FloatBuffer(count: 0)
    // mask holds 0 or 1 / (1 - rate) per value of the latest training batch.
    private let mask = FloatBuffer(count: 0)
    /// The layer's stream: batch N's key depends only on the stream's seed and N, so a run
    /// resumed at step N draws the masks one run would have drawn.
    private var streamSeed: UInt64
    private var batches: UInt64 = 0
    private var masked = false
    private var threads = 1

    /// Masks for the next training batches in place of drawn ones, first to last: per value 0
    /// or 1 / (1 - rate), as another framework drew them, so that its steps can be replayed and
    /// compared. Each is used once, by a batch of its size; the stream does not advance for them.
    public var replayedMasks: [[Float]] = []

    public init(name: String, shape: [Int], rate: Float, seed: UInt64 = 0) {
        self.name = name
        self.rate = rate
        inputShape = shape
        streamSeed = seed
    }

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer {
        let rate = try config.number("rate", default: 0)
        guard rate >= 0, rate < 1 else { throw config.error("has rate \(rate), not 0 to below 1") }
        return Dropout(name: config.name, shape: input, rate: rate)
    }

    /// Starts the layer's stream of masks from `seed`, at the mask of training step `step`.
    public func reseed(_ seed: UInt64, step: Int = 0) {
        streamSeed = seed
        batches = UInt64(max(step, 0))
    }

    /// Takes one draw, as a Dropout in a model's layer list always has: the kernels of the
    /// layers after it are drawn as the same seed has always drawn them.
    public func initialize(using generator: inout SeededGenerator) { _ = generator.next() }

    public func seedStream(using generator: inout SeededGenerator, step: Int) { reseed(generator.next(), step: step) }

    public var summarySetting: String { "rate \(rate)" }

    /// Nothing: dropout is the identity at inference.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String { input }

    public func reserve(rows: Int, training: Bool) {
        // Inference passes the input through: the buffers serve training only.
        guard training else { return }
        output.reserve(rows * outputWidth)
        mask.reserve(rows * outputWidth)
    }

    public func configure(compute: ComputeOptions) { threads = compute.threads }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        masked = training && rate > 0
        guard masked else { return input }
        let n = rows * outputWidth, keep = 1 - rate, scale = 1 / keep
        let m = mask.pointer, y = output.pointer
        if let replayed = replayedMasks.first, replayed.count == n {
            replayedMasks.removeFirst()
            for i in 0..<n {
                m[i] = replayed[i]
                y[i] = input[i] * replayed[i]
            }
            return UnsafePointer(y)
        }
        // A value is kept when its 32 random bits are below keep · 2^32.
        let threshold = UInt64((Double(keep) * 4_294_967_296).rounded(.down))
        // One key per batch, from the stream's seed and the batch's number; each pair of values
        // then takes its bits from the key and its position alone (a counter-based draw), so a
        // batch splits over the cores and gives the same mask on any number of them. Chunk
        // edges are even.
        let key = Self.mix(streamSeed &+ batches &* 0xD1B5_4A32_D192_ED03)
        batches &+= 1
        parallelChunks(n, threads: threads, minimumChunk: 1 << 14) { range in
            mlp_dropout(input, y, m, range.lowerBound, range.upperBound, key, threshold, scale)
        }
        return UnsafePointer(y)
    }

    /// SplitMix64's finaliser: 64 well-mixed bits from a counter (the batch's key; the values'
    /// bits come from the same finaliser in `mlp_dropout`).
    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["rate"] = JSONValue(rate)
        config["noise_shape"] = .null
        config["seed"] = .null
        return config
    }
}
