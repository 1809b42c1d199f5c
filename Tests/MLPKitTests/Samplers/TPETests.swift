import Foundation
@testable import MLPKit
import Testing

/// The TPE sampler: Optuna's default gamma and weights, its estimators as densities, and the
/// search concentrating near the optimum of an objective whose optimum is known, where random
/// search does not.
@Suite struct TPETests {
    /// Optuna's `default_gamma` and `default_weights`, by hand: ⌈0.1·n⌉ up to 25; equal weights
    /// below 25 observations, then `linspace(1/n, 1, n - 25)` followed by 25 ones.
    @Test func optunaDefaults() {
        #expect([1, 10, 11, 20, 240, 251, 1000].map { TPESampler.gamma($0) } == [1, 1, 2, 2, 24, 25, 25])
        // default_gamma_multiobjective: the same without the cap.
        #expect([1, 240, 251, 1000].map { TPESampler.gamma($0, severalObjectives: true) } == [1, 24, 26, 100])
        #expect(TPESampler.weights(0).isEmpty && TPESampler.weights(24) == [Double](repeating: 1, count: 24))
        let thirty = TPESampler.weights(30)
        #expect(thirty.count == 30 && thirty.suffix(25).allSatisfy { $0 == 1 })
        let expected: [Double] = [1.0 / 30, 1.0 / 30 + (29.0 / 30) / 4, 1.0 / 30 + 2 * (29.0 / 30) / 4, 1.0 / 30 + 3 * (29.0 / 30) / 4, 1]
        #expect(zip(thirty.prefix(5), expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(thirty.prefix(5))")
    }

    /// Trial `n` of a split fixture: its state and intermediate values (its values are each test's).
    static func record(_ n: Int, _ trial: [String: Any]) throws -> TrialRecord {
        var record = TrialRecord(number: n, hyperparameters: HyperparameterValues(values: ["x": .double(Double(n))]),
                                 epochs: 5, initialEpoch: 0, seed: 0)
        record.status = try #require(["COMPLETE": .completed, "PRUNED": .pruned, "RUNNING": .running][trial["state"] as? String ?? ""])
        for (step, value) in try #require(trial["intermediate_values"] as? [String: Any]) {
            record.intermediateValues[try #require(Int(step))] = try number(value)
        }
        return record
    }

    /// The good and bad groups, each in Optuna's order, equal to what Optuna's own `_split_trials`
    /// makes of the same trials (Fixtures/tuning/make_tpe_split.py): completed, pruned (at
    /// several steps, NaN last values, none reported) and running trials, both directions, tied
    /// scores, and a study whose good group reaches into its pruned trials.
    @Test func splitsTrialsAsOptuna() throws {
        let scenarios = try #require(try jsonFixture("tuning/tpe_split.json")["scenarios"] as? [[String: Any]])
        try #require(scenarios.count == 6)
        for (index, scenario) in scenarios.enumerated() {
            let direction = try #require(scenario["direction"] as? String)
            let trials = try #require(scenario["trials"] as? [[String: Any]])
            var records: [TrialRecord] = []
            for (n, trial) in trials.enumerated() {
                var record = try Self.record(n, trial)
                if record.status == .completed { record.score = try number(trial["value"]) }
                if record.status == .pruned, let step = record.intermediateValues.keys.max() { record.score = record.intermediateValues[step] }
                records.append(record)
            }
            let sampler = TPESampler(space: Self.space, seed: 1, objective: Monitor(direction == "maximize" ? "val_accuracy" : "val_loss"))
            let (good, bad) = sampler.split(records)
            #expect(good.map(\.number) == (scenario["below"] as? [Int]), "scenario \(index): good")
            #expect(bad.map(\.number) == (scenario["above"] as? [Int]), "scenario \(index): bad")
        }
    }

    /// The same with several objectives and constraints (`constrained` in the same fixture):
    /// Optuna's `_split_trials` with `default_gamma_multiobjective` for two objectives (fronts,
    /// the last one cut by hypervolume), and for one or two objectives whose trials carry a
    /// constraint: feasible completed trials first, then pruned ones, then broken ones by the
    /// least violation; running trials bad.
    @Test func splitsSeveralObjectivesAndConstraintsAsOptuna() throws {
        let scenarios = try #require(try jsonFixture("tuning/tpe_split.json")["constrained"] as? [[String: Any]])
        try #require(scenarios.count == 5)
        for (index, scenario) in scenarios.enumerated() {
            let directions = try #require(scenario["directions"] as? [String])
            let names = directions.enumerated().map { $1 == "maximize" ? "val_accuracy" : ($0 == 0 ? "val_loss" : "params") }
            let objectives = SearchObjectives(names.map { Monitor($0) }, constraints: [try #require(ObjectiveConstraint("params<=1"))])
            let trials = try #require(scenario["trials"] as? [[String: Any]])
            var records: [TrialRecord] = []
            for (n, trial) in trials.enumerated() {
                var record = try Self.record(n, trial)
                if record.status == .completed {
                    let values = try doubles(trial["values"])
                    (record.score, record.values) = (values[0], objectives.isMultiObjective ? values : nil)
                    record.constraints = [try number(trial["constraint"])]
                }
                records.append(record)
            }
            let (good, bad) = TPESampler(space: Self.space, seed: 1, objectives: objectives).split(records)
            #expect(good.map(\.number) == (scenario["below"] as? [Int]), "scenario \(index): good")
            #expect(bad.map(\.number) == (scenario["above"] as? [Int]), "scenario \(index): bad")
        }
    }

    /// A space where every choice matters, and a score whose best is known: learning rate
    /// 10^-2.5, dropout 0.1, 256 units, 2 layers, Adam.
    /// The good and bad trials' estimators of each dimension kind, for 11, 30 and 60 finished
    /// trials, equal to Optuna 5's `_ParzenEstimator` (`Fixtures/tuning/make_parzen.py`): the
    /// log densities at 200 points within 1e-9, and given Optuna's 24 candidates, the same pick.
    @Test func parzenEstimatorsAreOptunas() throws {
        let cases = try #require(try jsonFixture("tuning/parzen.json")["cases"] as? [[String: Any]])
        try #require(cases.count == 12)
        let sampler = TPESampler(space: Self.space, seed: 1, objective: Monitor("val_accuracy"))
        for item in cases {
            let kind = try #require(item["kind"] as? String), n = try #require(item["n"] as? Int)
            func numbers(_ key: String) throws -> [Double] { try #require(item[key] as? [String]).map { try #require(Double($0)) } }
            let (good, bad, points) = (try numbers("good"), try numbers("bad"), try numbers("points"))
            let candidates = try numbers("candidates")
            var ours: (good: [Double], bad: [Double], chosen: Int)
            if kind == "choice" {
                let l = CategoricalEstimator(observations: good.map { Int($0) }, choices: 4, priorWeight: 1)
                let g = CategoricalEstimator(observations: bad.map { Int($0) }, choices: 4, priorWeight: 1)
                let ratio = candidates.map { log(l.probabilities[Int($0)]) - log(g.probabilities[Int($0)]) }
                ours = (points.map { log(l.probabilities[Int($0)]) }, points.map { log(g.probabilities[Int($0)]) },
                        ratio.indices.max { ratio[$0] < ratio[$1] || (ratio[$0] == ratio[$1] && $0 > $1) }!)
            } else {
                let (low, high, logarithmic, integers) = kind == "uniform" ? (0.0, 0.5, false, false)
                    : kind == "log_uniform" ? (1e-4, 1e-1, true, false) : (0.5, 6.5, false, true)
                let (l, g) = sampler.estimators(low: low, high: high, logarithmic: logarithmic, good: good.map(HyperValue.double),
                                                bad: bad.map(HyperValue.double), integers: integers)
                let scale = { (x: Double) in logarithmic ? log(x) : x }
                // Optuna's log-float densities are of log x: the same ratio, and the same values.
                ours = (points.map { l.logDensity(scale($0)) }, points.map { g.logDensity(scale($0)) }, 0)
                let best = TPESampler.best(candidates.map(scale), l, g)
                ours.chosen = candidates.map(scale).firstIndex(of: best)!
            }
            for (name, got, want) in [("good", ours.good, try numbers("log_pdf_good")), ("bad", ours.bad, try numbers("log_pdf_bad"))] {
                let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
                #expect(got.count == 200 && worst <= 1e-9, "\(kind), \(n) trials, \(name): largest difference \(worst)")
            }
            #expect(ours.chosen == item["chosen"] as? Int, "\(kind), \(n) trials: candidate")
        }
    }

    static let space = try! SearchSpace(entries: [
        ("learning_rate", .logUniform(1e-4, 1e-1)), ("layers", .int(1, 3)), ("units", .choice([.int(64), .int(128), .int(256), .int(512)])),
        ("dropout", .uniform(0, 0.5)), ("optimizer", .choice([.string("adam"), .string("rmsprop")])),
    ])

    static func score(_ values: HyperparameterValues) -> Double {
        let rate = log10(values["learning_rate"]!.number!) + 2.5
        let dropout = values["dropout"]!.number! - 0.1
        return 1 - rate * rate / 4 - dropout * dropout * 2 - (values["units"] == .int(256) ? 0 : 0.2)
            - abs(values["layers"]!.number! - 2) * 0.15 - (values["optimizer"] == .string("adam") ? 0 : 0.1)
    }

    /// `count` trials one after another, each scored as it is proposed.
    static func search(_ sampler: Sampler, count: Int) -> [TrialRecord] {
        var records: [TrialRecord] = []
        for number in 0..<count {
            guard let values = sampler.propose(number: number, index: number, records: records) else { break }
            var record = TrialRecord(number: number, hyperparameters: values, epochs: 1, initialEpoch: 0, seed: 0)
            record.status = .completed
            record.score = score(values)
            records.append(record)
        }
        return records
    }

    /// A learning sampler against random search on `space`, seed by seed: `count` trials each,
    /// the learner's first `randomStart` checked to be random search's own draws; per seed, the
    /// mean score of the last `late` trials and the best score of each.
    static func againstRandom(seeds: ClosedRange<UInt64>, count: Int, randomStart: Int, late: Int,
                              learner: (UInt64) -> Sampler) -> (late: [Double], randomLate: [Double], best: [Double], randomBest: [Double]) {
        var result: (late: [Double], randomLate: [Double], best: [Double], randomBest: [Double]) = ([], [], [], [])
        let lateMean = { (records: [TrialRecord]) in records.suffix(late).compactMap(\.score).reduce(0, +) / Double(late) }
        for seed in seeds {
            let learned = search(learner(seed), count: count), random = search(RandomSampler(space: space, seed: seed), count: count)
            #expect(learned.count == count && random.count == count)
            #expect(learned.prefix(randomStart).map(\.hyperparameters) == random.prefix(randomStart).map(\.hyperparameters))
            result.late.append(lateMean(learned))
            result.randomLate.append(lateMean(random))
            result.best.append(learned.compactMap(\.score).max() ?? -.infinity)
            result.randomBest.append(random.compactMap(\.score).max() ?? -.infinity)
        }
        return result
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    @Test func concentratesNearTheOptimum() {
        let objective = Monitor("val_accuracy")
        // The first 10 trials are the random search's own draws.
        let tpe = Self.againstRandom(seeds: 1...5, count: 40, randomStart: 10, late: 20) {
            TPESampler(space: Self.space, seed: $0, objective: objective)
        }
        // The last 20 trials of TPE score far above random's on average; its best is better too.
        #expect(Self.mean(tpe.late) > Self.mean(tpe.randomLate) + 0.15, "TPE \(tpe.late), random \(tpe.randomLate)")
        #expect(Self.mean(tpe.best) > Self.mean(tpe.randomBest), "TPE \(tpe.best), random \(tpe.randomBest)")
    }

    /// The whole sampler against Optuna's TPESampler where a trial costs nothing: the score
    /// above (best 1) over 30 seeds × 50 trials (`Fixtures/tuning/make_tpe_regret.py`). The
    /// mean regrets (1 − best score) are within one standard error of their difference.
    @Test func regretIsOptunas() throws {
        let theirs = try #require(try jsonFixture("tuning/tpe_regret.json")["regrets"] as? [String]).map { try #require(Double($0)) }
        try #require(theirs.count == 30)
        let objective = Monitor("val_accuracy")
        let ours = (1...30).map { seed -> Double in
            let sampler = TPESampler(space: Self.space, seed: UInt64(seed), objective: objective)
            var records: [TrialRecord] = []
            for number in 0..<50 {
                let values = sampler.propose(number: number, index: number, records: records)!
                var record = TrialRecord(number: number, hyperparameters: values, epochs: 1, initialEpoch: 0, seed: 0)
                (record.status, record.score) = (.completed, Self.score(values))
                records.append(record)
            }
            return 1 - records.compactMap(\.score).max()!
        }
        func meanAndError(_ x: [Double]) -> (Double, Double) {
            let mean = Self.mean(x)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count - 1)
            return (mean, (variance / Double(x.count)).squareRoot())
        }
        let (a, ea) = meanAndError(ours), (b, eb) = meanAndError(theirs)
        let error = (ea * ea + eb * eb).squareRoot()
        #expect(abs(a - b) <= error, "ours \(a) ± \(ea), Optuna's \(b) ± \(eb)")
    }

    /// For a loss the direction turns: TPE then minimises.
    @Test func followsTheObjectivesDirection() {
        let objective = Monitor("val_loss")
        var records: [TrialRecord] = []
        let sampler = TPESampler(space: Self.space, seed: 3, objective: objective)
        for number in 0..<30 {
            let values = sampler.propose(number: number, index: number, records: records)!
            var record = TrialRecord(number: number, hyperparameters: values, epochs: 1, initialEpoch: 0, seed: 0)
            record.status = .completed
            record.score = -Self.score(values)  // a loss: lower is better
            records.append(record)
        }
        let late = records.suffix(15).compactMap(\.score).reduce(0, +) / 15
        let early = records.prefix(10).compactMap(\.score).reduce(0, +) / 10
        #expect(late < early - 0.1, "late \(late), early \(early)")
    }

    /// A running trial's values are not proposed again, and every proposal is new, until the
    /// few values of a small space run out.
    @Test func neverProposesATakenTrial() throws {
        let small = try SearchSpace(entries: [("units", .choice([.int(8), .int(16), .int(32)])), ("layers", .int(1, 2))])
        var sampler = TPESampler(space: small, seed: 1, objective: Monitor("val_accuracy"))
        sampler.startupTrials = 2
        var records: [TrialRecord] = []
        var seen = Set<HyperparameterValues>()
        for number in 0..<6 {
            let values = try #require(sampler.propose(number: number, index: number, records: records))
            #expect(seen.insert(values).inserted, "trial \(number) repeats \(values)")
            var record = TrialRecord(number: number, hyperparameters: values, epochs: 1, initialEpoch: 0, seed: 0)
            record.status = number % 2 == 0 ? .completed : .running
            record.score = number % 2 == 0 ? Double(number) : nil
            records.append(record)
        }
        #expect(seen.count == 6)
    }
}
