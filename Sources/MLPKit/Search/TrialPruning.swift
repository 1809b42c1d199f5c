import Foundation

/// Reports a trial's objective to the search's pruner after each epoch, as Optuna's
/// `trial.report(value, step=epoch)` and `trial.should_prune()` do: the value and what the
/// pruner records are written to the trial's record as one decision with reading the others
/// (`TrialStorage.deciding`), where every worker's pruner reads them, and a trial the pruner
/// stops ends after this epoch. While the storage cannot be reached, the trial trains on
/// unpruned and its values wait in `record` for the next write; a trial that another worker
/// failed meanwhile stops. With cross-validated trials (`judgesFolds`), the steps are folds
/// and the value after each is the running mean of the folds' scores.
final class TrialPruning: Callback {
    let pruner: Pruner
    let storage: TrialStorage
    let objective: Monitor
    /// The study's name, which Hyperband's brackets hash.
    let studyName: String
    /// The trial as recorded so far.
    private(set) var record: TrialRecord
    /// The epoch (from 0) after which the pruner stopped the trial.
    private(set) var prunedAfter: Int?
    /// Another worker failed the trial while this one could not reach the storage: it stopped.
    private(set) var abandoned = false
    /// Whether the steps are folds, reported by the tuner, rather than epochs.
    let judgesFolds: Bool

    init(pruner: Pruner, storage: TrialStorage, objective: Monitor, studyName: String, record: TrialRecord, judgesFolds: Bool = false) {
        self.judgesFolds = judgesFolds
        self.pruner = pruner
        self.storage = storage
        self.objective = objective
        self.studyName = studyName
        self.record = record
    }

    func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        guard !judgesFolds else { return }
        if try report(epoch, logs[objective.name] ?? .nan) { context.stopTraining = true }
    }

    /// Reports `value` at `step` and asks the pruner; true when the trial is to stop (pruned,
    /// or failed by another worker).
    func report(_ step: Int, _ value: Double) throws -> Bool {
        record.intermediateValues[step] = value
        let reached = try storage.duringTraining {
            try storage.deciding { () -> PruneDecision? in
                let others = try storage.records().filter { $0.number != record.number }.map(\.prunerTrial)
                let study = PrunerStudy(name: studyName, maximize: objective.mode == .max,
                                        trials: (others + [record.prunerTrial]).sorted { $0.number < $1.number })
                let decision = pruner.prune(study: study, trial: record.prunerTrial)
                var decided = record
                decided.prunerAttributes.merge(decision.systemAttributes) { $1 }
                guard try storage.write(decided) else { return nil }
                record = decided
                return decision
            }
        }
        guard let reached else { return false }
        guard let decision = reached else {
            abandoned = true
            return true
        }
        if decision.prune { prunedAfter = step }
        return decision.prune
    }
}

extension TrialRecord {
    /// The trial as a pruner sees it.
    public var prunerTrial: PrunerTrial {
        let state: PrunerTrial.State = switch status {
        case .running, .waiting: .running
        case .completed: .complete
        case .pruned: .pruned
        case .failed: .fail
        }
        return PrunerTrial(number: number, state: state, intermediateValues: intermediateValues, systemAttributes: prunerAttributes)
    }
}
