import Foundation

/// Where a training step's time went, as `mlp-train --profile-steps` writes it.
public struct StepBreakdown: Sendable {
    public var steps: Int
    public var stepMicroseconds: Double
    public var parts: [(name: String, microseconds: Double)]
    /// The bytes a step's optimizer update and batch gathering move.
    public var optimizerBytes: Int
    public var gatherBytes: Int

    /// The breakdown a `--profile-steps` file holds; nil when it holds none.
    public init?(json: JSONValue) {
        guard let steps = json["steps"]?.int, let step = json["step_us"]?.number, let parts = json["parts"]?.array,
              let optimizer = json["optimizer_bytes"]?.int, let gather = json["gather_bytes"]?.int else { return nil }
        (self.steps, stepMicroseconds, optimizerBytes, gatherBytes) = (steps, step, optimizer, gather)
        self.parts = parts.compactMap { part in part["part"]?.string.flatMap { name in part["us"]?.number.map { (name, $0) } } }
    }

    /// A line per part: microseconds a step and share of the step; beside the optimizer's update
    /// and the batch's gathering, their bytes and the time the memory's `rate` (GB/s) needs for them.
    public func lines(memoryRate rate: Double) -> [String] {
        parts.map { name, microseconds in
            var line = "    " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
                + String(format: "%7.1f µs %5.1f%%", microseconds, 100 * microseconds / max(stepMicroseconds, 1e-9))
            let bytes = name == StepProfile.Part.optimizer.name ? optimizerBytes : name == StepProfile.Part.gather.name ? gatherBytes : 0
            if bytes > 0 {
                line += String(format: "   %.1f MB a step: %.1f µs at the memory's %.1f GB/s", Double(bytes) / 1e6, Double(bytes) / rate / 1e3, rate)
            }
            return line
        }
    }
}

/// One model's figures in `mlp-bench`: its epochs (as trained, every product computed,
/// mixed_bfloat16) against oneDNN's own rates at its shapes.
public struct BenchmarkFigures {
    public var name: String
    /// The trained model's file, and the model as "3072-128-100 (--optimizer adam)".
    public var model: String
    public var shape: String
    public var steps: Int
    public var epoch: Double
    public var denseEpoch: Double
    public var mixedEpoch: Double?
    public var peakMB: Double
    /// Seconds an epoch of the step's products at oneDNN's own float32 and bfloat16 rates, and as
    /// mlp-train runs them.
    public var oneDNNFloat32: Double
    public var oneDNNBFloat16: Double?
    public var products: Double
    public var kernels: [String]
    public var gflopPerEpoch: Double
    /// The every-product-computed run's step breakdown.
    public var breakdown: StepBreakdown?

    public init(name: String, model: String, shape: String, steps: Int, epoch: Double, denseEpoch: Double, peakMB: Double,
                oneDNNFloat32: Double, products: Double, kernels: [String], gflopPerEpoch: Double) {
        (self.name, self.model, self.shape, self.steps, self.epoch, self.denseEpoch) = (name, model, shape, steps, epoch, denseEpoch)
        (self.peakMB, self.oneDNNFloat32, self.products, self.kernels, self.gflopPerEpoch) = (peakMB, oneDNNFloat32, products, kernels, gflopPerEpoch)
    }

    /// The model's lines of the report; `memoryRate` in GB/s for the breakdown's traffic.
    public func lines(cores: Int, memoryRate: Double) -> [String] {
        let oneDNN = oneDNNFloat32
        var lines = ["\(name) \(shape): " + String(format: "%.1f GFLOP of products an epoch (%d steps)", gflopPerEpoch, steps),
                     String(format: "  oneDNN's own rate at its shapes (%@, %d threads): float32 %.1f GFLOP/s = %.3f s an epoch%@",
                            kernels.joined(separator: ", "), cores, gflopPerEpoch / oneDNN, oneDNN,
                            oneDNNBFloat16.map { String(format: "; bfloat16 %.1f GFLOP/s = %.3f s", gflopPerEpoch / $0, $0) }
                                ?? "; bfloat16: none on this CPU"),
                     String(format: "  the same products as mlp-train runs them (engine %@, split over %d cores): %.1f GFLOP/s = %.3f s an epoch",
                            MatrixEngine.preferred.rawValue, cores, gflopPerEpoch / products, products),
                     String(format: "  epoch: median %.3f s (%.0f%% of oneDNN's float32 rate, dense-equivalent); peak memory %.0f MB",
                            epoch, 100 * oneDNN / epoch, peakMB),
                     String(format: "  epoch, every product computed: median %.3f s (%.2f× oneDNN's own time for its products)",
                            denseEpoch, denseEpoch / oneDNN)]
        if let breakdown {
            lines.append(String(format: "  a step, every product computed: %.1f µs, as mlp-train timed its parts over %d steps:",
                                breakdown.stepMicroseconds, breakdown.steps))
            lines += breakdown.lines(memoryRate: memoryRate)
        }
        if let mixedEpoch {
            lines.append(String(format: "  epoch, mixed_bfloat16: median %.3f s, %.2f times faster than float32 (%.0f%% of oneDNN's bfloat16 rate)",
                                mixedEpoch, epoch / mixedEpoch, 100 * (oneDNNBFloat16 ?? .nan) / mixedEpoch))
        }
        return lines
    }
}

/// A Keras run of `mlp-bench --compare-keras`.
public struct KerasRun: Hashable, Sendable {
    public var model: String
    public var backend: String
    public var policy: DTypePolicy

    public init(model: String, backend: String, policy: DTypePolicy) {
        (self.model, self.backend, self.policy) = (model, backend, policy)
    }
}

/// Everything `mlp-bench` measured, and the targets it is judged by.
public struct BenchmarkReport {
    public var models: [BenchmarkFigures]
    public var evalSeconds = 0.0
    public var keras: [KerasRun: Double]?

    public init(models: [BenchmarkFigures]) { self.models = models }

    func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }

    public var targetLines: [String] {
        var lines = ["targets:"]
        let baseline = models[0]
        if let keras, let (backend, seconds) = ["tensorflow", "jax"].compactMap({ backend in
            keras[KerasRun(model: "baseline", backend: backend, policy: .float32)].map { (backend, $0) }
        }).min(by: { $0.1 < $1.1 }) {
            let ratio = seconds / baseline.epoch
            lines.append(String(format: "  baseline float32 epoch >= 4 times faster than Keras 3's faster backend (%@, %.3f s): %.2f, %@",
                                backend, seconds, ratio, verdict(ratio >= 4)))
        }
        for figures in models {
            let ratio = figures.denseEpoch / figures.oneDNNFloat32
            lines.append(String(format: "  %@, every product computed, <= 1.25× oneDNN's own time for its products: %.2f×, %@",
                                figures.name, ratio, verdict(ratio <= 1.25)))
        }
        if let tuning = models.first(where: { $0.name == "tuning" }) {
            if let mixed = tuning.mixedEpoch {
                let ratio = tuning.epoch / mixed
                lines.append(String(format: "  mixed_bfloat16 >= 1.7 times faster than float32 (512-512, Adam, dropout 0.2): %.2f, %@",
                                    ratio, verdict(ratio >= 1.7)))
            } else {
                lines.append("  mixed_bfloat16 >= 1.7 times faster than float32: not measurable here (no bfloat16 products on this CPU)")
            }
        }
        lines.append(String(format: "  mlp-train peak memory <= 450 MB: %.0f MB, %@", baseline.peakMB, verdict(baseline.peakMB <= 450)))
        lines.append(String(format: "  mlp-eval <= 0.7 s: %.3f s, %@", evalSeconds, verdict(evalSeconds <= 0.7)))
        return lines
    }
}
