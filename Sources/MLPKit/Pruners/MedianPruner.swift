import Foundation

/// Optuna's `MedianPruner` (a `PercentilePruner` at 50): after `startupTrials` trials have
/// completed, from step `warmupSteps` on, at the first report of every `intervalSteps`, prunes a
/// trial whose best value so far is worse than the percentile of the completed trials' values at
/// the same step (when at least `minTrials` of them reported that step). A trial whose values
/// are all NaN is pruned.
public final class MedianPruner: RegisteredPruner {
    public static let name = "median"
    public static let summary = "Optuna's MedianPruner"

    public let percentile: Double
    public let startupTrials: Int
    public let warmupSteps: Int
    public let intervalSteps: Int
    public let minTrials: Int

    /// Optuna's defaults: the median, 5 startup trials, no warmup, every step, 1 trial.
    public convenience init() { self.init(percentile: 50) }

    public init(percentile: Double = 50, startupTrials: Int = 5, warmupSteps: Int = 0, intervalSteps: Int = 1, minTrials: Int = 1) {
        self.percentile = percentile
        self.startupTrials = startupTrials
        self.warmupSteps = warmupSteps
        self.intervalSteps = intervalSteps
        self.minTrials = minTrials
    }

    public func prune(study: PrunerStudy, trial: PrunerTrial) -> PruneDecision {
        let completed = study.trials.filter { $0.state == .complete }
        guard !completed.isEmpty, completed.count >= startupTrials, let step = trial.lastStep, step >= warmupSteps,
              isFirstInInterval(step: step, steps: trial.intermediateValues.keys)
        else { return PruneDecision(prune: false) }
        let values = trial.intermediateValues.values.filter { !$0.isNaN }
        guard let best = study.maximize ? values.max() : values.min() else { return PruneDecision(prune: true) }
        let atStep = completed.compactMap { $0.intermediateValues[step] }
        guard atStep.count >= minTrials else { return PruneDecision(prune: false) }
        let threshold = nanPercentile(atStep, study.maximize ? 100 - percentile : percentile)
        guard !threshold.isNaN else { return PruneDecision(prune: false) }
        return PruneDecision(prune: study.maximize ? best < threshold : best > threshold)
    }

    /// Whether `step` is the first report at or after the latest pruning step (warmup, then
    /// every `intervalSteps`): a check postponed because no value came at that step happens at
    /// the next report.
    func isFirstInInterval(step: Int, steps: Dictionary<Int, Double>.Keys) -> Bool {
        let nearestPruningStep = (step - warmupSteps) / intervalSteps * intervalSteps + warmupSteps
        let secondLast = steps.filter { $0 != step }.max() ?? -1
        return secondLast < nearestPruningStep
    }
}
