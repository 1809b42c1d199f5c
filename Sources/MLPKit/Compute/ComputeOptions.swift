import Foundation

/// How a model's numeric work runs. A value that a training run or an evaluation carries, not
/// a process-wide switch, so that runs side by side (tests in parallel, tuning workers) cannot
/// disturb each other.
public struct ComputeOptions: Sendable, Equatable {
    public static func == (a: ComputeOptions, b: ComputeOptions) -> Bool {
        (a.threads, a.skipsInactiveUnits, a.engine) == (b.threads, b.skipsInactiveUnits, b.engine) && a.profile === b.profile
    }

    /// Cores to split products and element-wise passes over (at least 1).
    public var threads: Int
    /// Whether Dense skips the backward products of ReLU units that are off for a whole batch.
    /// Their gradient columns are exactly zero either way, so the results are the same; turning
    /// it off measures the dense products.
    public var skipsInactiveUnits: Bool
    /// The library that multiplies the matrices.
    public var engine: MatrixEngine
    /// Where training steps' time goes, when it is being measured.
    public var profile: StepProfile?

    /// - Parameters:
    ///   - threads: cores to use; nil for all of the machine's.
    ///   - engine: the matrix engine; nil for the one this CPU runs fastest (`MatrixEngine.preferred`).
    public init(threads: Int? = nil, skipsInactiveUnits: Bool = true, engine: MatrixEngine? = nil) {
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.skipsInactiveUnits = skipsInactiveUnits
        self.engine = engine ?? .preferred
    }
}
