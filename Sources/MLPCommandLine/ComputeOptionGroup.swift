import ArgumentParser
import MLPKit

/// How the numeric work runs, as every tool that trains or predicts takes it: `--threads` and
/// `--engine`.
public struct ComputeOptionGroup: ParsableArguments {
    @Option(parsing: .unconditional, help: "Cores for the numeric work (1 to 256; default: all).")
    public var threads: Int?

    @Option(help: "The matrix engine: onednn (the default; on CPUs without AVX-512 it leaves the transposed products to OpenBLAS) or openblas.")
    public var engine: MatrixEngine?

    public init() {}

    public func validate() throws {
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1 to 256, got \(threads)") }
    }

    /// The library's compute options for these flags.
    public func options(skipsInactiveUnits: Bool = true) -> ComputeOptions {
        ComputeOptions(threads: threads, skipsInactiveUnits: skipsInactiveUnits, engine: engine)
    }
}

extension MatrixEngine: ExpressibleByArgument {
    /// The engines by their flag names, for `--engine`'s help.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
