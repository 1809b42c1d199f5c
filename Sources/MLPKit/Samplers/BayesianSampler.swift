import Foundation

/// Bayesian optimization with a Gaussian process, with the behaviour and defaults of
/// KerasTuner's `BayesianOptimization` oracle:
///
/// - the first `initialPoints` trials (3 per dimension of the space) are drawn at random;
/// - each trial's values are encoded as KerasTuner encodes them, as cumulative probabilities in
///   [0, 1] (a log scale for log ranges, the middle of a choice's or an integer's share);
/// - a Gaussian process with a Matérn 5/2 kernel, `alpha` (1e-4) added to its diagonal and
///   normalised scores (scikit-learn's `GaussianProcessRegressor(Matern(nu=2.5), alpha,
///   normalize_y=True)`), its length scale chosen by the log marginal likelihood, is fitted
///   to the completed trials, its Cholesky factor and solves through LAPACK;
/// - the next values are those that maximise the upper confidence bound `μ + beta·σ` (beta 2.6;
///   KerasTuner minimises `μ − beta·σ` of the negated score) over random candidates and
///   candidates near the best trial.
///
/// Trials other workers are running count as scored at the worst score so far (a "constant
/// liar"), so that two workers do not propose the same point; a proposal that repeats a trial
/// is skipped for the next best. Draws depend only on the seed, the trial's number and the
/// trials so far.
public struct BayesianSampler: RegisteredSampler {
    public static let name = "bayesian"
    public static let summary = "KerasTuner's BayesianOptimization: 3 random trials per dimension, then a Gaussian process"
    public static func randomStart(space: SearchSpace) -> Int { 3 * space.entries.count }

    public let space: SearchSpace
    public let seed: UInt64
    public let objective: Monitor
    /// Trials drawn at random before the Gaussian process proposes (KerasTuner's `num_initial_points`: 3 per
    /// dimension).
    public var initialPoints: Int
    /// Noise added to the kernel's diagonal (KerasTuner's `alpha`).
    public var alpha = 1e-4
    /// The upper confidence bound's weight on the standard deviation (KerasTuner's `beta`).
    public var beta = 2.6
    /// Random points the acquisition is evaluated at, before the local search around the best ones.
    public var candidates = 2000

    /// KerasTuner's oracle judges one objective: the first; trials that break a constraint
    /// count as the worst so far.
    public init(space: SearchSpace, seed: UInt64, objectives: SearchObjectives) { self.init(space: space, seed: seed, objective: objectives.first) }

    public init(space: SearchSpace, seed: UInt64, objective: Monitor) {
        self.space = space
        self.seed = seed
        self.objective = objective
        initialPoints = Self.randomStart(space: space)
    }

    public func propose(number: Int, index: Int, records: [TrialRecord]) -> HyperparameterValues? {
        optimize(number: number, records: records)
            ?? RandomSampler(space: space, seed: seed).firstUntaken(from: index, records: records)
    }

    /// The Gaussian process's proposal; nil while drawing the initial points at random.
    func optimize(number: Int, records: [TrialRecord]) -> HyperparameterValues? {
        let completed = records.filter { $0.status == .completed && $0.score.map(\.isFinite) == true }
        guard completed.count >= initialPoints else { return nil }
        // Scores as the GP sees them: higher is better.
        let sign = objective.mode == .max ? 1.0 : -1.0
        var points = completed.map { encode($0.hyperparameters) }
        var scores = completed.map { sign * $0.score! }
        let worst = scores.min()!
        // A trial that breaks a constraint counts as the worst score: the process steers away.
        for (k, record) in completed.enumerated() where !SearchObjectives.isFeasible(record) { scores[k] = worst }
        for running in records where running.status == .running {
            points.append(encode(running.hyperparameters))
            scores.append(worst)
        }
        guard let process = GaussianProcess(points: points, scores: scores, alpha: alpha) else { return nil }
        var random = SeededGenerator(seed: seed ^ (UInt64(number + 1) &* 0x94D0_49BB_1331_11EB))
        let dimensions = space.entries.count
        var pool = (0..<candidates).map { _ in (0..<dimensions).map { _ in random.nextUnitDouble() } }
        // Around the best point so far, as a local search would go.
        let best = points[scores.indices.max { scores[$0] < scores[$1] }!]
        for _ in 0..<(candidates / 10) {
            pool.append(best.map { min(max($0 + 0.05 * (random.nextUnitDouble() - 0.5), 0), 0.999_999) })
        }
        let (means, deviations) = process.predict(pool)
        let order = pool.indices.sorted { means[$0] + beta * deviations[$0] > means[$1] + beta * deviations[$1] }
        let taken = Set(records.map(\.hyperparameters))
        for index in order.prefix(200) {
            let values = decode(pool[index])
            if !taken.contains(values) { return values }
        }
        return nil
    }

    /// KerasTuner's `value_to_prob` for each dimension.
    func encode(_ values: HyperparameterValues) -> [Double] {
        space.entries.map { key, distribution in
            guard let value = values[key] else { return 0.5 }
            switch distribution {
            case .logUniform(let low, let high): return log((value.number ?? low) / low) / log(high / low)
            case .uniform(let low, let high): return high > low ? ((value.number ?? low) - low) / (high - low) : 0.5
            case .int(let low, let high): return ((value.number ?? Double(low)) - Double(low) + 0.5) / Double(high - low + 1)
            case .choice(let choices): return (Double(choices.firstIndex(of: value) ?? 0) + 0.5) / Double(choices.count)
            }
        }.map { min(max($0, 0), 1) }
    }

    /// KerasTuner's `prob_to_value` for each dimension.
    func decode(_ point: [Double]) -> HyperparameterValues {
        HyperparameterValues(values: Dictionary(uniqueKeysWithValues: zip(space.entries, point).map { entry, p in
            (entry.key, entry.distribution.value(atProbability: min(max(p, 0), 0.999_999_999)))
        }))
    }
}

/// A Gaussian process regression with a Matérn 5/2 kernel over points in [0, 1]^d, on scores
/// normalised to mean 0 and deviation 1; its length scale maximises the log marginal
/// likelihood over a grid from 0.01 to 10. Factorised and solved with LAPACK's `dpotrf` and
/// `dpotrs`.
public struct GaussianProcess {
    let points: [[Double]]
    /// The Matérn kernel's length scale, chosen by marginal likelihood.
    public let lengthScale: Double
    let mean: Double, deviation: Double
    /// K⁻¹y and the Cholesky factor of K (column-major, lower).
    let weights: [Double]
    let factor: [Double]

    /// Fits the process; nil when no length scale gives a kernel matrix LAPACK can factorise.
    ///
    /// - Parameters:
    ///   - alpha: added to the kernel matrix's diagonal: the scores' noise variance (normalised).
    public init?(points: [[Double]], scores: [Double], alpha: Double) {
        let n = points.count
        guard n > 0 else { return nil }
        let average = scores.reduce(0, +) / Double(n)
        let variance = scores.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(n)
        let spread = variance > 0 ? variance.squareRoot() : 1
        let y = scores.map { ($0 - average) / spread }
        var best: (likelihood: Double, scale: Double, weights: [Double], factor: [Double])?
        for step in 0...24 {
            let scale = pow(10, -2 + 3 * Double(step) / 24)
            var k = Self.kernel(points, points, scale: scale)
            for i in 0..<n { k[i * n + i] += alpha }
            guard let factor = Self.cholesky(k, n: n), let solved = Self.solve(factor, n: n, y, columns: 1) else { continue }
            var logDeterminant = 0.0
            for i in 0..<n { logDeterminant += log(factor[i * n + i]) }
            let fit = zip(y, solved).reduce(0) { $0 + $1.0 * $1.1 }
            let likelihood = -0.5 * fit - logDeterminant - 0.5 * Double(n) * log(2 * .pi)
            if best == nil || likelihood > best!.likelihood { best = (likelihood, scale, solved, factor) }
        }
        guard let best else { return nil }
        mean = average
        deviation = spread
        self.points = points
        lengthScale = best.scale
        weights = best.weights
        factor = best.factor
    }

    /// The Matérn 5/2 kernel between every point of `a` and of `b`, column-major (`a` down).
    static func kernel(_ a: [[Double]], _ b: [[Double]], scale: Double) -> [Double] {
        var k = [Double](repeating: 0, count: a.count * b.count)
        for (j, q) in b.enumerated() {
            for (i, p) in a.enumerated() {
                var squared = 0.0
                for d in p.indices { squared += (p[d] - q[d]) * (p[d] - q[d]) }
                let r = 5.0.squareRoot() * squared.squareRoot() / scale
                k[j * a.count + i] = (1 + r + r * r / 3) * exp(-r)
            }
        }
        return k
    }

    static func cholesky(_ matrix: [Double], n: Int) -> [Double]? { LAPACK.choleskyFactor(matrix, n: n) }

    /// K⁻¹B for `columns` right-hand sides, B column-major with n rows.
    static func solve(_ factor: [Double], n: Int, _ b: [Double], columns: Int) -> [Double]? {
        LAPACK.choleskySolve(factor: factor, n: n, b, columns: columns)
    }

    /// The predicted mean and standard deviation of the score at each point, de-normalised.
    public func predict(_ queries: [[Double]]) -> (means: [Double], deviations: [Double]) {
        let n = points.count
        let cross = Self.kernel(points, queries, scale: lengthScale)  // n × m, column per query
        let solved = Self.solve(factor, n: n, cross, columns: queries.count) ?? cross
        var means: [Double] = [], deviations: [Double] = []
        for j in queries.indices {
            var mu = 0.0, explained = 0.0
            for i in 0..<n {
                mu += cross[j * n + i] * weights[i]
                explained += cross[j * n + i] * solved[j * n + i]
            }
            means.append(mu * deviation + mean)
            deviations.append(max(1 - explained, 0).squareRoot() * deviation)
        }
        return (means, deviations)
    }
}
