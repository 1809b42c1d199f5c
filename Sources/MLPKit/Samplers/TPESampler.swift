import Foundation

/// The tree-structured Parzen estimator, with the behaviour and defaults of Optuna's
/// `TPESampler` (independent sampling, one dimension at a time):
///
/// - the first `startupTrials` (10) trials are drawn at random;
/// - then the finished trials are split as Optuna splits them (completed ones by score, then
///   pruned ones by how far they went): the best `gamma(n) = min(⌈0.1·n⌉, 25)` are "good",
///   the rest "bad" (with trials other workers are still running counted among the bad,
///   as Optuna's `constant_liar`, so that two workers do not propose the same region at once);
/// - for each dimension, a Parzen estimator (a mixture of truncated normals, one per trial plus
///   a prior over the whole range, widths from the distances to the neighbouring observations,
///   clipped as Optuna's "magic clip") is fitted to each group, on a log scale for log ranges;
///   categorical dimensions get a mixture of smoothed one-hot kernels;
/// - `candidates` (24) values are drawn from the good trials' estimator and the one with the
///   largest `log l(x) − log g(x)` (expected improvement, up to a monotone map) is proposed.
///
/// Draws depend only on the seed, the trial's number and the trials so far.
public struct TPESampler: RegisteredSampler {
    public static let name = "tpe"
    public static let summary = "Optuna's default TPESampler: 10 random trials, then the Parzen estimators of the good and the bad trials"
    public static func randomStart(space: SearchSpace) -> Int { 10 }

    public let space: SearchSpace
    public let seed: UInt64
    /// Which way scores improve.
    public let objective: Monitor
    /// Trials drawn at random before the estimators are used (Optuna's `n_startup_trials`).
    public var startupTrials = 10
    /// Values drawn from the good trials' estimator, of which the one with the best ratio is proposed (Optuna's
    /// `n_ei_candidates`).
    public var candidates = 24
    /// The weight of the prior component in each estimator.
    public var priorWeight = 1.0

    public init(space: SearchSpace, seed: UInt64, objective: Monitor) {
        self.space = space
        self.seed = seed
        self.objective = objective
    }

    /// How many of `n` completed trials count as good: Optuna's default `gamma`.
    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    /// Optuna's default weights of `n` observations in trial order: equal up to 25, then a
    /// ramp from 1/n for the oldest to 1 for the newest 25.
    public static func weights(_ n: Int) -> [Double] {
        guard n >= 25 else { return [Double](repeating: 1, count: n) }
        let ramp = n - 25
        let rising = ramp == 1 ? [1 / Double(n)]
            : (0..<ramp).map { 1 / Double(n) + (1 - 1 / Double(n)) * Double($0) / Double(ramp - 1) }
        return rising + [Double](repeating: 1, count: 25)
    }

    /// Random values (KerasTuner's draws, as `RandomSampler`) while starting up, or when no
    /// proposal is new; the estimators' proposal after.
    public func propose(number: Int, index: Int, records: [TrialRecord]) -> HyperparameterValues? {
        propose(number: number, records: records)
            ?? RandomSampler(space: space, seed: seed).firstUntaken(from: index, records: records)
    }

    /// Whether the search is still in its random start: fewer than `startupTrials` trials done
    /// (completed or pruned, as Optuna counts them).
    public func isStartingUp(_ records: [TrialRecord]) -> Bool {
        records.filter { ($0.status == .completed && $0.score != nil) || $0.status == .pruned }.count < startupTrials
    }

    /// The values of trial `number`, from the trials so far; nil while starting up (the caller
    /// draws at random then) or when every proposal repeats a trial's values.
    public func propose(number: Int, records: [TrialRecord]) -> HyperparameterValues? {
        guard !isStartingUp(records) else { return nil }
        let (good, bad) = split(records)
        let taken = Set(records.map(\.hyperparameters))
        var random = SeededGenerator(seed: seed ^ (UInt64(number + 1) &* 0xD1B5_4A32_D192_ED03))
        for _ in 0..<8 {
            var values: [String: HyperValue] = [:]
            for (key, distribution) in space.entries {
                values[key] = propose(distribution, good: good.compactMap { $0.hyperparameters[key] },
                                      bad: bad.compactMap { $0.hyperparameters[key] }, random: &random)
            }
            let proposal = HyperparameterValues(values: values)
            if !taken.contains(proposal) { return proposal }
        }
        return nil
    }

    /// The good and the bad trials, as Optuna's `_split_trials` divides them: of the `gamma(n)`
    /// best of the `n` finished trials, completed ones first by score, then pruned ones (those
    /// that went further first, then by their last value; a NaN last); the rest, and the
    /// trials still running, are bad. Each group is in trial order, which is what the
    /// estimators' weights ramp over (from the oldest trial to the newest) and the order their
    /// densities are summed in.
    func split(_ records: [TrialRecord]) -> (good: [TrialRecord], bad: [TrialRecord]) {
        let completed = records.filter { $0.status == .completed && $0.score != nil }
            .sorted { a, b in a.score! == b.score! ? a.number < b.number : objective.isBetter(a.score!, than: b.score!) }
        // A pruned trial's rank: its last step (the later the better), then the value it
        // reported there; one that reported nothing after every other.
        func last(_ record: TrialRecord) -> (step: Int, value: Double) {
            guard let step = record.intermediateValues.keys.max() else { return (-1, .nan) }
            return (step, record.intermediateValues[step]!)
        }
        let pruned = records.filter { $0.status == .pruned }.sorted { a, b in
            let (x, y) = (last(a), last(b))
            if x.step != y.step { return x.step > y.step }
            if x.value == y.value || (x.value.isNaN && y.value.isNaN) { return a.number < b.number }
            if x.value.isNaN || y.value.isNaN { return y.value.isNaN }
            return objective.isBetter(x.value, than: y.value)
        }
        let ranked = completed + pruned
        let count = Self.gamma(ranked.count)
        let good = ranked.prefix(count).sorted { $0.number < $1.number }
        let bad = (ranked.dropFirst(count) + records.filter { $0.status == .running }).sorted { $0.number < $1.number }
        return (good, bad)
    }

    /// One dimension's proposal: the candidate, drawn from the good trials' estimator, with the
    /// largest ratio of good to bad density.
    func propose(_ distribution: Distribution, good: [HyperValue], bad: [HyperValue], random: inout SeededGenerator) -> HyperValue {
        switch distribution {
        case .choice(let choices):
            let index = { (value: HyperValue) in choices.firstIndex(of: value) }
            let l = CategoricalEstimator(observations: good.compactMap(index), choices: choices.count, priorWeight: priorWeight)
            let g = CategoricalEstimator(observations: bad.compactMap(index), choices: choices.count, priorWeight: priorWeight)
            let drawn = (0..<candidates).map { _ in l.sample(&random) }
            let best = drawn.max { log(l.probabilities[$0]) - log(g.probabilities[$0]) < log(l.probabilities[$1]) - log(g.probabilities[$1]) }!
            return choices[best]
        case .uniform(let low, let high):
            return .double(numeric(low: low, high: high, logarithmic: false, good: good, bad: bad, random: &random))
        case .logUniform(let low, let high):
            return .double(numeric(low: low, high: high, logarithmic: true, good: good, bad: bad, random: &random))
        case .int(let low, let high):
            // Whole numbers as Optuna's step-1 integers: each owns the unit interval around it.
            let x = numeric(low: Double(low) - 0.5, high: Double(high) + 0.5, logarithmic: false, good: good, bad: bad, random: &random)
            return .int(min(max(Int(x.rounded()), low), high))
        }
    }

    /// A number in [low, high], estimated on a log scale when `logarithmic`.
    private func numeric(low: Double, high: Double, logarithmic: Bool, good: [HyperValue], bad: [HyperValue],
                         random: inout SeededGenerator) -> Double {
        let scale = { (x: Double) in logarithmic ? log(x) : x }
        let observed = { (values: [HyperValue]) in
            values.compactMap(\.number).filter { $0 >= low && $0 <= high }.map(scale)
        }
        let l = ParzenEstimator(observations: observed(good), low: scale(low), high: scale(high), priorWeight: priorWeight)
        let g = ParzenEstimator(observations: observed(bad), low: scale(low), high: scale(high), priorWeight: priorWeight)
        let drawn = (0..<candidates).map { _ in l.sample(&random) }
        let best = drawn.max { l.logDensity($0) - g.logDensity($0) < l.logDensity($1) - g.logDensity($1) }!
        return min(max(logarithmic ? exp(best) : best, low), high)
    }
}

/// A mixture of normals truncated to [low, high]: one per observation, widths from the
/// distances to its neighbours, and a prior over the whole range; as Optuna's univariate
/// `_ParzenEstimator` without endpoints, with its magic clip.
struct ParzenEstimator {
    let low: Double, high: Double
    var mus: [Double] = [], sigmas: [Double] = [], weights: [Double] = []

    init(observations: [Double], low: Double, high: Double, priorWeight: Double) {
        self.low = low
        self.high = high
        let n = observations.count
        let order = observations.indices.sorted { observations[$0] < observations[$1] }
        let sorted = order.map { observations[$0] }
        let withEnds = [low] + sorted + [high]
        // Each observation's width: the larger gap to its neighbours (the range's ends count as
        // neighbours); the outermost take the gap on their inner side.
        var sortedSigmas: [Double] = []
        for i in 0..<n {
            let left: Double = withEnds[i + 1] - withEnds[i]
            let right: Double = withEnds[i + 2] - withEnds[i + 1]
            sortedSigmas.append(max(left, right))
        }
        if n >= 2 {
            sortedSigmas[0] = withEnds[2] - withEnds[1]
            sortedSigmas[n - 1] = withEnds[n] - withEnds[n - 1]
        }
        var sigmas = [Double](repeating: 0, count: n)
        for (rank, index) in order.enumerated() { sigmas[index] = sortedSigmas[rank] }
        let range = high - low
        let minimum = range / min(100, 1 + Double(n + 1))
        mus = observations + [(low + high) / 2]
        self.sigmas = (sigmas + [range]).map { min(max($0, minimum), range) }
        let raw = TPESampler.weights(n) + [priorWeight]
        let total = raw.reduce(0, +)
        weights = raw.map { $0 / total }
    }

    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    func logDensity(_ x: Double) -> Double {
        var terms: [Double] = []
        for k in mus.indices {
            let (mu, sigma) = (mus[k], sigmas[k])
            let mass = max(Self.cdf((high - mu) / sigma) - Self.cdf((low - mu) / sigma), 1e-300)
            let z = (x - mu) / sigma
            terms.append(log(weights[k]) - 0.5 * z * z - log(sigma * (2 * Double.pi).squareRoot()) - log(mass))
        }
        let top = terms.max() ?? -.infinity
        return top + log(terms.reduce(0) { $0 + exp($1 - top) })
    }

    func sample(_ random: inout SeededGenerator) -> Double {
        var u = random.nextUnitDouble(), k = 0
        while k < weights.count - 1 && u >= weights[k] { u -= weights[k]; k += 1 }
        for _ in 0..<64 {
            // Box–Muller; rejection keeps what falls inside the range.
            let x = mus[k] + sigmas[k] * (-2 * log(max(random.nextUnitDouble(), 1e-300))).squareRoot() * cos(2 * .pi * random.nextUnitDouble())
            if x >= low && x <= high { return x }
        }
        return min(max(mus[k], low), high)
    }
}

/// A mixture over categories, as Optuna's: one kernel per observation, `priorWeight / kernels`
/// on every category and 1 more on the observed one, normalised; and the prior's kernel,
/// uniform; mixed with the observations' weights and `priorWeight`.
struct CategoricalEstimator {
    let probabilities: [Double]

    init(observations: [Int], choices: Int, priorWeight: Double) {
        guard !observations.isEmpty else {
            probabilities = [Double](repeating: 1 / Double(choices), count: choices)
            return
        }
        let kernels = Double(observations.count + 1)
        let mixture = TPESampler.weights(observations.count) + [priorWeight]
        let total = mixture.reduce(0, +)
        let smoothing = priorWeight / kernels
        let rowSum = 1 + smoothing * Double(choices)
        var p = [Double](repeating: mixture.last! / total / Double(choices), count: choices)
        for (observation, weight) in zip(observations, mixture) {
            for c in 0..<choices { p[c] += weight / total * (smoothing + (c == observation ? 1 : 0)) / rowSum }
        }
        probabilities = p
    }

    func sample(_ random: inout SeededGenerator) -> Int {
        var u = random.nextUnitDouble() * probabilities.reduce(0, +)
        for (index, p) in probabilities.enumerated() {
            if u < p { return index }
            u -= p
        }
        return probabilities.count - 1
    }
}
