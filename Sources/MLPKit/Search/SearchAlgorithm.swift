/// How a search chooses its trials: a sampler's proposals over a set number of trials, or
/// KerasTuner's Hyperband schedule over random draws. `--algorithm` takes their names.
public enum SearchAlgorithm: Sendable {
    case sampler(SamplerDescription)
    case hyperband

    /// Every algorithm: the samplers (random search first), then Hyperband.
    public static var all: [SearchAlgorithm] { Samplers.all.map { .sampler($0) } + [.hyperband] }

    /// The algorithm called `name`.
    public static func named(_ name: String) -> SearchAlgorithm? { all.first { $0.name == name } }

    public var name: String {
        switch self {
        case .sampler(let sampler): return sampler.name
        case .hyperband: return Hyperband.name
        }
    }

    /// What it is, for `--algorithm`'s help.
    public var summary: String {
        switch self {
        case .sampler(let sampler): return sampler.summary
        case .hyperband: return Hyperband.summary
        }
    }

    /// What proposes new trials' values: the sampler, or random draws for Hyperband's new
    /// trials, as KerasTuner's.
    public var sampler: SamplerDescription {
        switch self {
        case .sampler(let sampler): return sampler
        case .hyperband: return Samplers.named(RandomSampler.name)!
        }
    }

    /// Whether a trial goes on from an earlier trial's saved model, which its worker must then
    /// find on its own disk.
    public var resumesPastTrials: Bool {
        if case .hyperband = self { return true }
        return false
    }
}
