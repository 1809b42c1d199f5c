/// Which way a monitored metric improves, and by how much it must: the judgement that Keras's
/// `EarlyStopping`, `ReduceLROnPlateau` and `ModelCheckpoint` share (its `MonitorCallback`).
public struct Monitor: Sendable, Equatable {
    /// Whether a smaller (`min`) or a larger (`max`) value is better: Keras's `mode` once `auto` is resolved.
    public enum Mode: String, Sendable {
        case min, max
    }

    /// The metric's Keras name, e.g. "val_loss".
    public var name: String
    public var mode: Mode
    /// The least change that counts as an improvement (its absolute value is used).
    public var minDelta: Double

    /// - Parameters:
    ///   - mode: nil for Keras's "auto": losses fall, accuracy and AUC rise.
    public init(_ name: String, mode: Mode? = nil, minDelta: Double = 0) {
        self.name = name
        let metric = name.hasPrefix("val_") ? String(name.dropFirst(4)) : name
        // Losses fall, and so should a model's parameter count; accuracy and AUC rise.
        self.mode = mode ?? (metric == "loss" || name == "params" ? .min : .max)
        self.minDelta = abs(minDelta)
    }

    /// Whether `value` improves on `best` (always, when there is no best yet): by more than
    /// `minDelta`, as Keras's `monitor_op(value - min_delta, best)`.
    public func isImprovement(_ value: Double, over best: Double?) -> Bool {
        guard let best else { return true }
        return mode == .min ? value + minDelta < best : value - minDelta > best
    }

    /// Whether score `a` is better than `b` in this metric's direction, with no margin: the one
    /// definition that the tuner, its outputs, Hyperband, the samplers and the charts share.
    public func isBetter(_ a: Double, than b: Double) -> Bool { mode == .max ? a > b : a < b }

    /// The best of `items` by `score`, the earliest on ties; items without a score are skipped.
    public func best<T>(_ items: [T], score: (T) -> Double?) -> T? {
        var best: (item: T, score: Double)?
        for item in items {
            guard let value = score(item), !value.isNaN else { continue }
            if best == nil || isBetter(value, than: best!.score) { best = (item, value) }
        }
        return best?.item
    }

    /// The metric names this toolchain logs, which a monitor may name.
    public static let known = ["loss", "accuracy", "val_loss", "val_accuracy", "val_auc"]
}
