import Foundation
import Testing
@testable import MLPKit

/// The pruners against Optuna's own (Fixtures/pruners/make.py): the same curves reported step
/// by step, trial after trial, give the same decisions at the same steps and the same rung
/// attributes, for the median, successive halving and Hyperband pruners, with Optuna's
/// defaults and with other settings, maximizing and minimizing, NaN values included.
@Suite struct PrunerTests {
    static let names = ["median_default", "median_warmup_interval_minimize", "median_nan", "successive_halving_default",
                        "successive_halving_settings", "hyperband_default", "hyperband_settings"]

    func scenarios() throws -> (study: String, scenarios: [[String: Any]]) {
        let fixture = try jsonFixture("pruners/pruners.json")
        return (try #require(fixture["study_name"] as? String), try #require(fixture["scenarios"] as? [[String: Any]]))
    }

    @Test func everyScenarioIsThere() throws {
        let scenarios = try scenarios().scenarios
        #expect(scenarios.compactMap { $0["name"] as? String } == Self.names)
        #expect(Set(scenarios.compactMap { $0["pruner"] as? String }) == ["median", "successive-halving", "hyperband"])
    }

    static func pruner(_ kind: String, _ settings: [String: Any]) -> Pruner? {
        func int(_ key: String) -> Int? { settings[key] as? Int }
        switch kind {
        case "median":
            return MedianPruner(startupTrials: int("n_startup_trials") ?? 5, warmupSteps: int("n_warmup_steps") ?? 0,
                                intervalSteps: int("interval_steps") ?? 1)
        case "successive-halving":
            return SuccessiveHalvingPruner(minResource: int("min_resource"), reductionFactor: int("reduction_factor") ?? 4,
                                           minEarlyStoppingRate: int("min_early_stopping_rate") ?? 0)
        case "hyperband":
            return HyperbandPruner(minResource: int("min_resource") ?? 1, maxResource: int("max_resource"),
                                   reductionFactor: int("reduction_factor") ?? 3)
        default: return nil
        }
    }

    @Test(arguments: names)
    func decidesAsOptuna(_ name: String) throws {
        let (studyName, scenarios) = try scenarios()
        let scenario = try #require(scenarios.first { $0["name"] as? String == name }, "no scenario \(name)")
        let pruner = try #require(Self.pruner(scenario["pruner"] as? String ?? "", scenario["settings"] as? [String: Any] ?? [:]), "\(name)")
        let curves = try #require(scenario["curves"] as? [[Any]]).map { try doubles($0) }
        let expected = try #require(scenario["trials"] as? [[String: Any]])
        try #require(expected.count == curves.count && !curves.isEmpty)
        let maximize = scenario["direction"] as? String == "maximize"
        var trials: [PrunerTrial] = []
        var mismatches: [String] = []
        for (trialNumber, curve) in curves.enumerated() {
            var trial = PrunerTrial(number: trialNumber, state: .running)
            trials.append(trial)
            var prunedAt: Int?
            for (step, value) in curve.enumerated() {
                trial.intermediateValues[step] = value
                trials[trialNumber] = trial
                let decision = pruner.prune(study: PrunerStudy(name: studyName, maximize: maximize, trials: trials), trial: trial)
                trial.systemAttributes.merge(decision.systemAttributes) { $1 }
                trials[trialNumber] = trial
                if decision.prune {
                    prunedAt = step
                    break
                }
            }
            trial.state = prunedAt == nil ? .complete : .pruned
            trials[trialNumber] = trial
            let want = expected[trialNumber]
            let wantStep = want["pruned_at"] as? Int
            let wantAttributes = try (want["system_attrs"] as? [String: Any] ?? [:]).mapValues { try number($0) }
            if prunedAt != wantStep || trial.systemAttributes != wantAttributes {
                mismatches.append("trial \(trialNumber): pruned at \(prunedAt.map(String.init) ?? "-") where Optuna \(wantStep.map(String.init) ?? "-"); "
                    + "attributes \(trial.systemAttributes.sorted { $0.key < $1.key }) where Optuna \(wantAttributes.sorted { $0.key < $1.key })")
            }
        }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.prefix(3).joined(separator: " | "))")
        #expect(trials.contains { $0.state == .pruned } && trials.contains { $0.state == .complete }, "\(name) prunes some, not all")
    }

    /// numpy's nanpercentile, as numpy 2.4.6 gives it: np.nanpercentile([4, 1, nan, 8, 2], 50)
    /// = 3.0, np.nanpercentile([1, 2, 4, 8], 30) = 1.9, ([1, 2, 4, 8], 90) = 6.800000000000001.
    @Test func percentileIsNumPys() {
        #expect(nanPercentile([4, 1, .nan, 8, 2], 50) == 3)
        #expect(nanPercentile([1, 2, 4, 8], 30) == 1.9)
        #expect(nanPercentile([1, 2, 4, 8], 90) == 6.800000000000001)
        #expect(nanPercentile([.nan], 50).isNaN)
    }
}
