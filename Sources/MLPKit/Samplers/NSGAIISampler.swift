import Foundation

/// NSGA-II with the semantics and defaults of Optuna's `NSGAIISampler`:
///
/// - trials are grouped in generations of `populationSize` (50) completed trials: a trial
///   belongs to the newest generation while it has fewer than that many, else it opens the
///   next (`BaseGASampler.get_trial_generation`);
/// - generation 0 is drawn at random; the parents of generation g are the elite (fronts, then
///   crowding distance, `ParetoRanking.elite`) of generation g − 1 and its own parents;
/// - a child takes, with probability `crossoverProbability` (0.9), each value from one of two
///   parents (uniform crossover, `swappingProbability` 0.5), each parent the winner of a binary
///   tournament by domination (constrained domination when trials carry constraints); else it
///   copies one parent;
/// - each value is then drawn afresh at random with probability 1 / (number of values).
///
/// Draws depend only on the seed, the trial's number and the trials so far; the random numbers
/// are this sampler's own, not numpy's.
public struct NSGAIISampler: RegisteredSampler {
    public static let name = "nsga2"
    public static let summary = "Optuna's NSGAIISampler: generations of 50, elite by fronts and crowding, uniform crossover"
    public static func randomStart(space: SearchSpace) -> Int { 0 }
    public static var judgesSeveralObjectives: Bool { true }

    public let space: SearchSpace
    public let seed: UInt64
    public let objectives: SearchObjectives
    public var populationSize = 50
    public var crossoverProbability = 0.9
    public var swappingProbability = 0.5

    public init(space: SearchSpace, seed: UInt64, objectives: SearchObjectives) {
        self.space = space
        self.seed = seed
        self.objectives = objectives
    }

    public func propose(number: Int, index: Int, records: [TrialRecord]) -> HyperparameterValues? {
        let generations = generations(records.filter { $0.number < number })
        let current = generation(of: number, records: records, generations: generations)
        let parents = parentPopulation(current, records: records, generations: generations)
        guard parents.count >= 2 else { return RandomSampler(space: space, seed: seed).firstUntaken(from: index, records: records) }
        var random = SeededGenerator(seed: seed ^ (UInt64(number + 1) &* 0xA24B_AED4_963E_E407))
        let taken = Set(records.map(\.hyperparameters))
        for _ in 0..<16 {
            let child = self.child(of: parents, random: &random)
            if !taken.contains(child) { return child }
        }
        return RandomSampler(space: space, seed: seed).firstUntaken(from: index, records: records)
    }

    /// Each trial's generation, by number, replayed in trial order: a trial joins the newest
    /// generation among the completed trials before it while that has fewer than
    /// `populationSize`, else opens the next.
    func generations(_ records: [TrialRecord]) -> [Int: Int] {
        var result: [Int: Int] = [:]
        let ordered = records.sorted { $0.number < $1.number }
        for record in ordered {
            result[record.number] = generation(of: record.number, records: ordered, generations: result)
        }
        return result
    }

    func generation(of number: Int, records: [TrialRecord], generations: [Int: Int]) -> Int {
        var newest = 0, count = 0
        for record in records where record.number < number && record.status == .completed {
            guard let g = generations[record.number] else { continue }
            if g > newest { (newest, count) = (g, 1) } else if g == newest { count += 1 }
        }
        return count < populationSize ? newest : newest + 1
    }

    /// The completed trials of generation `g` that have every objective's value.
    func population(_ g: Int, records: [TrialRecord], generations: [Int: Int]) -> [TrialRecord] {
        records.filter { $0.status == .completed && generations[$0.number] == g && objectives.values(of: $0) != nil }
            .sorted { $0.number < $1.number }
    }

    /// Generation `g`'s parents: none for generation 0, else the elite of the previous
    /// generation and its parents.
    func parentPopulation(_ g: Int, records: [TrialRecord], generations: [Int: Int]) -> [TrialRecord] {
        var parents: [TrialRecord] = []
        guard g > 0 else { return parents }
        for previous in 0..<g {
            var pool = population(previous, records: records, generations: generations)
            let numbers = Set(pool.map(\.number))
            pool += parents.filter { !numbers.contains($0.number) }
            let constrained = pool.contains { $0.constraints != nil }
            let chosen = ParetoRanking.elite(pool.map { objectives.values(of: $0)! }, maximize: objectives.objectives.map { $0.mode == .max },
                                             penalties: constrained ? pool.map(SearchObjectives.penalty) : nil, size: populationSize)
            parents = chosen.map { pool[$0] }
        }
        return parents
    }

    /// A child of `parents`: crossover (or a copy), then mutation.
    func child(of parents: [TrialRecord], random: inout SeededGenerator) -> HyperparameterValues {
        var values: [String: HyperValue]
        if Double.random(in: 0..<1, using: &random) < crossoverProbability {
            let first = tournament(parents, random: &random)
            let second = tournament(parents.filter { $0.number != first.number }, random: &random)
            values = [:]
            for (key, _) in space.entries {
                let donor = Double.random(in: 0..<1, using: &random) >= swappingProbability ? second : first
                values[key] = donor.hyperparameters[key] ?? first.hyperparameters[key]
            }
        } else {
            values = parents[Int.random(in: 0..<parents.count, using: &random)].hyperparameters.values
        }
        let rate = 1 / Double(max(1, space.entries.count))
        for (key, distribution) in space.entries where values[key] == nil || Double.random(in: 0..<1, using: &random) < rate {
            values[key] = distribution.value(atProbability: Double.random(in: 0..<1, using: &random))
        }
        return HyperparameterValues(values: values)
    }

    /// Binary tournament: of two trials drawn (with replacement), the first when it dominates
    /// the second, else the second (Optuna's `_select_parent`).
    func tournament(_ pool: [TrialRecord], random: inout SeededGenerator) -> TrialRecord {
        let a = pool[Int.random(in: 0..<pool.count, using: &random)], b = pool[Int.random(in: 0..<pool.count, using: &random)]
        return dominates(a, b) ? a : b
    }

    /// Optuna's `_constrained_dominates`: a feasible trial dominates an infeasible one, of two
    /// infeasible ones the smaller violation wins, and feasible ones compare by their values.
    func dominates(_ a: TrialRecord, _ b: TrialRecord) -> Bool {
        if a.constraints != nil || b.constraints != nil {
            let (pa, pb) = (SearchObjectives.penalty(a), SearchObjectives.penalty(b))
            if pa > 0 || pb > 0 { return pa <= 0 || (pb > 0 && pa < pb) }
        }
        guard let x = objectives.values(of: a), let y = objectives.values(of: b) else { return false }
        return ParetoRanking.dominates(objectives.losses(x), objectives.losses(y))
    }
}
