/// Proposes the values of a search's next new trial from the space, the trials so far
/// (finished, failed and running, other workers' included) and the search's seed.
public protocol Sampler: Sendable {
    /// The values of trial `number`, the `index`-th new trial of the search (promoted trials
    /// do not count); nil when the space has no values left that no trial has had.
    func propose(number: Int, index: Int, records: [TrialRecord]) -> HyperparameterValues?
}

/// A sampler that `mlp-tune --algorithm NAME` chooses. A new way of choosing values is one file
/// with a type conforming here; `Samplers` finds it.
public protocol RegisteredSampler: Sampler {
    /// The name `--algorithm` takes: "tpe".
    static var name: String { get }
    /// What it is, for `--algorithm`'s help.
    static var summary: String { get }
    /// How many trials of `space` are drawn at random before the sampler's own proposals begin.
    static func randomStart(space: SearchSpace) -> Int
    /// Whether it judges several objectives at once (a Pareto front).
    static var judgesSeveralObjectives: Bool { get }
    init(space: SearchSpace, seed: UInt64, objectives: SearchObjectives)
}

extension RegisteredSampler {
    public static var judgesSeveralObjectives: Bool { false }
}

/// A sampler described as data: its name, what it is, how long it draws at random, and how to
/// make one.
public struct SamplerDescription: Sendable {
    public let name: String
    public let summary: String
    public let randomStart: @Sendable (SearchSpace) -> Int
    public let judgesSeveralObjectives: Bool
    public let make: @Sendable (SearchSpace, UInt64, SearchObjectives) -> Sampler

    init<S: RegisteredSampler>(_ type: S.Type) {
        name = S.name
        summary = S.summary
        randomStart = { S.randomStart(space: $0) }
        judgesSeveralObjectives = S.judgesSeveralObjectives
        make = { S(space: $0, seed: $1, objectives: $2) }
    }
}

/// The samplers, found at build time from the types conforming to `RegisteredSampler`.
public enum Samplers {
    /// Every sampler, random search first, then by name.
    public static var all: [SamplerDescription] {
        registered.map { describe($0) }.sorted { ($0.name != "random" ? 1 : 0, $0.name) < ($1.name != "random" ? 1 : 0, $1.name) }
    }

    /// The sampler called `name`.
    public static func named(_ name: String) -> SamplerDescription? { all.first { $0.name == name } }

    private static func describe(_ type: any RegisteredSampler.Type) -> SamplerDescription { SamplerDescription(type) }
}
