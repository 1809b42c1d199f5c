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
    /// What the trials are judged by: one objective or several, and constraints.
    public let objectives: SearchObjectives
    /// Which way the (first) objective's scores improve.
    public var objective: Monitor { objectives.first }
    /// Trials drawn at random before the estimators are used (Optuna's `n_startup_trials`).
    public var startupTrials = 10
    /// Values drawn from the good trials' estimator, of which the one with the best ratio is proposed (Optuna's
    /// `n_ei_candidates`).
    public var candidates = 24
    /// The weight of the prior component in each estimator.
    public var priorWeight = 1.0

    public init(space: SearchSpace, seed: UInt64, objectives: SearchObjectives) {
        self.space = space
        self.seed = seed
        self.objectives = objectives
    }

    public init(space: SearchSpace, seed: UInt64, objective: Monitor) { self.init(space: space, seed: seed, objectives: SearchObjectives([objective])) }

    public static var judgesSeveralObjectives: Bool { true }

    /// How many of `n` finished trials count as good: Optuna's default `gamma`, uncapped with
    /// several objectives (`default_gamma_multiobjective`).
    public static func gamma(_ n: Int, severalObjectives: Bool = false) -> Int {
        let tenth = Int((0.1 * Double(n)).rounded(.up))
        return severalObjectives ? tenth : min(tenth, 25)
    }

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
    /// best of the `n` finished trials, completed ones that satisfy the constraints first (by
    /// score; with several objectives, by front, the last front cut by hypervolume), then pruned
    /// ones (those that went further first, then by their last value; a NaN last), then those
    /// that break a constraint (the least total violation first); the rest, and the trials still
    /// running, are bad. Each group is in trial order, which is what the estimators' weights
    /// ramp over (from the oldest trial to the newest) and the order their densities are summed in.
    func split(_ records: [TrialRecord]) -> (good: [TrialRecord], bad: [TrialRecord]) {
        let finished = records.filter { ($0.status == .completed && objectives.values(of: $0) != nil) || $0.status == .pruned }
        let infeasible = finished.filter { SearchObjectives.penalty($0) > 0 }
            .sorted { a, b in SearchObjectives.penalty(a) == SearchObjectives.penalty(b) ? a.number < b.number
                : SearchObjectives.penalty(a) < SearchObjectives.penalty(b) }
        let feasible = finished.filter { SearchObjectives.penalty($0) <= 0 }
        var count = Self.gamma(finished.count, severalObjectives: objectives.isMultiObjective)
        let (goodCompleted, badCompleted) = splitCompleted(feasible.filter { $0.status == .completed }, count: count)
        count = max(0, count - goodCompleted.count)
        let pruned = rankedPruned(feasible.filter { $0.status == .pruned })
        let goodPruned = Array(pruned.prefix(count))
        count = max(0, count - goodPruned.count)
        let good = (goodCompleted + goodPruned + infeasible.prefix(count)).sorted { $0.number < $1.number }
        let bad = (badCompleted + pruned.dropFirst(goodPruned.count) + infeasible.dropFirst(min(count, infeasible.count))
            + records.filter { $0.status == .running }).sorted { $0.number < $1.number }
        return (good, bad)
    }

    /// The best `count` completed trials and the rest: by score with one objective (the
    /// earliest first on ties), by Optuna's multi-objective split with several.
    func splitCompleted(_ completed: [TrialRecord], count: Int) -> (good: [TrialRecord], bad: [TrialRecord]) {
        let count = min(count, completed.count)
        guard objectives.isMultiObjective else {
            let ranked = completed.sorted { a, b in a.score! == b.score! ? a.number < b.number : objective.isBetter(a.score!, than: b.score!) }
            return (Array(ranked.prefix(count)), Array(ranked.dropFirst(count)))
        }
        let ordered = completed.sorted { $0.number < $1.number }
        let losses = ordered.map { objectives.losses(objectives.values(of: $0)!) }
        let chosen = ParetoRanking.goodTrials(losses, count: count)
        return (ordered.indices.filter { chosen.contains($0) }.map { ordered[$0] }, ordered.indices.filter { !chosen.contains($0) }.map { ordered[$0] })
    }

    /// Pruned trials, best first: a pruned trial's rank is its last step (the later the
    /// better), then the value it reported there; one that reported nothing after every other.
    func rankedPruned(_ pruned: [TrialRecord]) -> [TrialRecord] {
        func last(_ record: TrialRecord) -> (step: Int, value: Double) {
            guard let step = record.intermediateValues.keys.max() else { return (-1, .nan) }
            return (step, record.intermediateValues[step]!)
        }
        return pruned.sorted { a, b in
            let (x, y) = (last(a), last(b))
            if x.step != y.step { return x.step > y.step }
            if x.value == y.value || (x.value.isNaN && y.value.isNaN) { return a.number < b.number }
            if x.value.isNaN || y.value.isNaN { return y.value.isNaN }
            return objective.isBetter(x.value, than: y.value)
        }
    }

    /// One dimension's proposal: the candidate, drawn from the good trials' estimator, with the
    /// largest ratio of good to bad density.
    func propose(_ distribution: Distribution, good: [HyperValue], bad: [HyperValue], random: inout SeededGenerator) -> HyperValue {
        switch distribution {
        case .choice(let choices):
            let index = { (value: HyperValue) in choices.firstIndex(of: value) }
            let l = CategoricalEstimator(observations: good.compactMap(index), choices: choices.count, priorWeight: priorWeight,
                                         uniform: objectives.isMultiObjective)
            let g = CategoricalEstimator(observations: bad.compactMap(index), choices: choices.count, priorWeight: priorWeight)
            let drawn = (0..<candidates).map { _ in l.sample(&random) }
            let best = drawn.max { log(l.probabilities[$0]) - log(g.probabilities[$0]) < log(l.probabilities[$1]) - log(g.probabilities[$1]) }!
            return choices[best]
        case .uniform(let low, let high):
            return .double(numeric(low: low, high: high, logarithmic: false, good: good, bad: bad, random: &random))
        case .logUniform(let low, let high):
            return .double(numeric(low: low, high: high, logarithmic: true, good: good, bad: bad, random: &random))
        case .int(let low, let high):
            // Whole numbers as Optuna's step-1 integers: each owns the unit interval around it,
            // and a candidate is judged by its interval's mass.
            let x = numeric(low: Double(low) - 0.5, high: Double(high) + 0.5, logarithmic: false, good: good, bad: bad,
                            random: &random, integers: (low, high))
            return .int(Int(x))
        }
    }

    /// A number in [low, high], estimated on a log scale when `logarithmic`; with `integers`,
    /// the whole number (of that range) with the best ratio of interval masses.
    func numeric(low: Double, high: Double, logarithmic: Bool, good: [HyperValue], bad: [HyperValue],
                 random: inout SeededGenerator, integers: (low: Int, high: Int)? = nil) -> Double {
        let (l, g) = estimators(low: low, high: high, logarithmic: logarithmic, good: good, bad: bad, integers: integers != nil)
        var drawn = (0..<candidates).map { _ in l.sample(&random) }
        if let integers {
            // numpy's round (half to even) of each draw, within the range.
            drawn = drawn.map { min(max($0.rounded(.toNearestOrEven), Double(integers.low)), Double(integers.high)) }
        }
        let best = Self.best(drawn, l, g)
        return min(max(logarithmic ? exp(best) : best, low), high)
    }

    /// The good and the bad trials' estimators of one numeric dimension (on a log scale when
    /// `logarithmic`; of whole numbers' intervals when `integers`).
    func estimators(low: Double, high: Double, logarithmic: Bool, good: [HyperValue], bad: [HyperValue], integers: Bool = false)
        -> (good: ParzenEstimator, bad: ParzenEstimator)
    {
        let scale = { (x: Double) in logarithmic ? log(x) : x }
        let observed = { (values: [HyperValue]) in
            values.compactMap(\.number).filter { $0 >= low && $0 <= high }.map(scale)
        }
        // With several objectives the good trials weigh alike, as Optuna's `weights_below`.
        return (ParzenEstimator(observations: observed(good), low: scale(low), high: scale(high), priorWeight: priorWeight, integers: integers,
                                uniform: objectives.isMultiObjective),
                ParzenEstimator(observations: observed(bad), low: scale(low), high: scale(high), priorWeight: priorWeight, integers: integers))
    }

    /// The candidate with the largest `log l(x) − log g(x)`, the first of equals (numpy's argmax).
    static func best(_ candidates: [Double], _ l: ParzenEstimator, _ g: ParzenEstimator) -> Double {
        let scores = candidates.map { l.logDensity($0) - g.logDensity($0) }
        return candidates[scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!]
    }
}

/// A mixture of normals truncated to [low, high]: one per observation, widths from the
/// distances to its neighbours, and a prior over the whole range; as Optuna's univariate
/// `_ParzenEstimator` without endpoints, with its magic clip. For whole numbers (`integers`,
/// the range being [lowest − ½, highest + ½]) a value's probability is the mass of its unit
/// interval, as Optuna's `_BatchedDiscreteTruncNormDistributions` gives it.
struct ParzenEstimator {
    let low: Double, high: Double
    let integers: Bool
    var mus: [Double] = [], sigmas: [Double] = [], weights: [Double] = []
    /// Each component's log mass within [low, high].
    var logMasses: [Double] = []

    /// - Parameter uniform: every observation weighs 1, instead of Optuna's default ramp.
    init(observations: [Double], low: Double, high: Double, priorWeight: Double, integers: Bool = false, uniform: Bool = false) {
        self.low = low
        self.high = high
        self.integers = integers
        let n = observations.count
        // numpy's argsort: stable for the short arrays a search holds in a group.
        let order = observations.indices.sorted { observations[$0] < observations[$1] || (observations[$0] == observations[$1] && $0 < $1) }
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
        let raw = n == 0 ? [1] : (uniform ? [Double](repeating: 1, count: n) : TPESampler.weights(n)) + [priorWeight]
        let total = raw.reduce(0, +)
        weights = raw.map { $0 / total }
        logMasses = zip(mus, self.sigmas).map { mu, sigma in TruncatedNormal.logMass((low - mu) / sigma, (high - mu) / sigma) }
    }

    /// The mixture's log density at `x` (for `integers`, the log probability of the whole
    /// number `x`), summed as Optuna sums it: log-sum-exp over the components.
    func logDensity(_ x: Double) -> Double {
        var terms: [Double] = []
        for k in mus.indices {
            let (mu, sigma) = (mus[k], sigmas[k])
            let term = integers ? TruncatedNormal.logMass((x - 0.5 - mu) / sigma, (x + 0.5 - mu) / sigma)
                : -0.5 * ((x - mu) / sigma) * ((x - mu) / sigma) - TruncatedNormal.logRootTwoPi - log(sigma)
            terms.append(term - logMasses[k] + log(weights[k]))
        }
        var top = terms.max() ?? -.infinity
        if top == -.infinity { top = 0 }
        return log(terms.reduce(0) { $0 + exp($1 - top) }) + top
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

    init(observations: [Int], choices: Int, priorWeight: Double, uniform: Bool = false) {
        guard !observations.isEmpty else {
            probabilities = [Double](repeating: 1 / Double(choices), count: choices)
            return
        }
        let kernels = Double(observations.count + 1)
        let mixture = (uniform ? [Double](repeating: 1, count: observations.count) : TPESampler.weights(observations.count)) + [priorWeight]
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

/// The standard normal's log masses over intervals, computed as Optuna's `_truncnorm` computes
/// them: on the side of the interval away from the mean's tail, through log Φ with its
/// asymptotic series below −20, so that far tails keep their digits.
enum TruncatedNormal {
    static let logRootTwoPi = log((2 * Double.pi).squareRoot())

    /// Φ(a), from erf or erfc as the argument's side needs.
    static func ndtr(_ a: Double) -> Double {
        let x = a / 2.0.squareRoot()
        if x < -1 / 2.0.squareRoot() { return 0.5 * erfc(-x) }
        if x < 1 / 2.0.squareRoot() { return 0.5 + 0.5 * erf(x) }
        return 1 - 0.5 * erfc(x)
    }

    /// log Φ(a).
    static func logNdtr(_ a: Double) -> Double {
        if a > 6 { return -ndtr(-a) }
        if a > -20 { return log(ndtr(a)) }
        let left = -0.5 * a * a - log(-a) - 0.5 * log(2 * Double.pi)
        var (last, sum, numerator, factor, sign, i) = (0.0, 1.0, 1.0, 1.0, 1.0, 0)
        while abs(last - sum) > Double.ulpOfOne {
            i += 1
            last = sum
            sign = -sign
            factor *= 1 / (a * a)
            numerator *= Double(2 * i - 1)
            sum += sign * numerator * factor
        }
        return left + log(sum)
    }

    /// log(Φ(b) − Φ(a)) for a ≤ b.
    static func logMass(_ a: Double, _ b: Double) -> Double {
        func difference(_ p: Double, _ q: Double) -> Double { p + log1p(-exp(q - p)) }
        if b <= 0 { return difference(logNdtr(b), logNdtr(a)) }
        if a > 0 { return difference(logNdtr(-a), logNdtr(-b)) }
        return log1p(-(0.5 + 0.5 * erf(a / 2.0.squareRoot())) - (0.5 + 0.5 * erf(-b / 2.0.squareRoot())))
    }
}
