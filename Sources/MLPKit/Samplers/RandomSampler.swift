/// Draws trials' hyperparameters from a space at random, exactly as KerasTuner's oracles do
/// with the same seed: the n-th new trial of a search always gets the same values, whichever
/// worker creates it, and they are the values KerasTuner's n-th trial gets when its build
/// function registers the hyperparameters in `SearchSpace.keys` order.
///
/// KerasTuner keeps one seed counter for the search: each value drawn takes the next seed,
/// and a draw that repeats an earlier trial's values is thrown away and drawn again.
public struct RandomSampler: RegisteredSampler {
    public static let name = "random"
    public static let summary = "KerasTuner's RandomSearch"
    public static func randomStart(space: SearchSpace) -> Int { 0 }

    public let space: SearchSpace
    public let seed: UInt64
    /// Repeated draws in a row after which the space counts as exhausted (KerasTuner's
    /// `max_collisions`).
    public static let maxCollisions = 20

    public init(space: SearchSpace, seed: UInt64) {
        self.space = space
        self.seed = seed
    }

    /// Random draws judge nothing: the objectives are not used, however many.
    public init(space: SearchSpace, seed: UInt64, objectives: SearchObjectives) { self.init(space: space, seed: seed) }
    public static var judgesSeveralObjectives: Bool { true }

    /// The `index`-th draw, or the first draw after it that no trial has had (a trial folder
    /// removed by hand leaves the count of draws behind the draws made).
    public func propose(number: Int, index: Int, records: [TrialRecord]) -> HyperparameterValues? {
        firstUntaken(from: index, records: records)
    }

    /// The first of the random draws from the `index`-th on whose values no trial has had: what
    /// a learning sampler proposes while it starts up, or when its own proposals repeat trials.
    public func firstUntaken(from index: Int, records: [TrialRecord]) -> HyperparameterValues? {
        let taken = Set(records.map(\.hyperparameters))
        for k in index..<(index + 64) {
            guard let values = sample(index: k) else { return nil }
            if !taken.contains(values) { return values }
        }
        return nil
    }

    /// The values of the `index`-th drawn trial; nil when, on the way to it, more than
    /// `maxCollisions` draws in a row repeated earlier trials: the space is exhausted.
    public func sample(index: Int) -> HyperparameterValues? {
        let drawn = samples(count: index + 1)
        return drawn.count == index + 1 ? drawn.last : nil
    }

    /// The first `count` trials' values, fewer when the space runs out.
    public func samples(count: Int) -> [HyperparameterValues] {
        var drawn: [HyperparameterValues] = [], taken = Set<HyperparameterValues>(), offset: UInt64 = 0
        while drawn.count < count {
            var collisions = 0
            while true {
                let values = space.sample(seed: seed, offset: offset)
                offset += UInt64(space.entries.count)
                if taken.insert(values).inserted { drawn.append(values); break }
                collisions += 1
                if collisions > Self.maxCollisions { return drawn }
            }
        }
        return drawn
    }
}
