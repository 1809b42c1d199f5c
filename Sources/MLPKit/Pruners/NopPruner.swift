/// Optuna's `NopPruner`: never prunes.
public final class NopPruner: RegisteredPruner {
    public static let name = "none"
    public static let summary = "no pruning"
    public init() {}
    public func prune(study: PrunerStudy, trial: PrunerTrial) -> PruneDecision { PruneDecision(prune: false) }
}
