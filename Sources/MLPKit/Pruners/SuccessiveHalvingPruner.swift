import Foundation

/// Optuna's `SuccessiveHalvingPruner` (asynchronous successive halving): a trial reaching the
/// step of its next rung, `minResource · reductionFactor^(minEarlyStoppingRate + rung)`, records
/// its value there (`completed_rung_N`) and goes on only if that value is within the best
/// 1/`reductionFactor` of every value recorded at that rung so far, its own included. With no
/// `minResource` it is estimated once, from the first completed trials, as their last step / 100.
public final class SuccessiveHalvingPruner: RegisteredPruner {
    public static let name = "successive-halving"
    public static let summary = "Optuna's SuccessiveHalvingPruner"

    /// The first rung's step; nil until estimated.
    public private(set) var minResource: Int?
    public let reductionFactor: Int
    public let minEarlyStoppingRate: Int
    public let bootstrapCount: Int

    /// Optuna's defaults: min_resource "auto", reduction factor 4, rate 0, no bootstrap.
    public convenience init() { self.init(minResource: nil) }

    public init(minResource: Int?, reductionFactor: Int = 4, minEarlyStoppingRate: Int = 0, bootstrapCount: Int = 0) {
        self.minResource = minResource
        self.reductionFactor = reductionFactor
        self.minEarlyStoppingRate = minEarlyStoppingRate
        self.bootstrapCount = bootstrapCount
    }

    public func prune(study: PrunerStudy, trial: PrunerTrial) -> PruneDecision {
        guard let step = trial.lastStep, let value = trial.intermediateValues[step] else { return PruneDecision(prune: false) }
        var rung = 0
        while trial.systemAttributes[Self.rungKey(rung)] != nil { rung += 1 }
        var recorded: [String: Double] = [:]
        while true {
            if minResource == nil {
                let lastSteps = study.trials.filter { $0.state == .complete }.compactMap(\.lastStep)
                guard let last = lastSteps.max() else { return PruneDecision(prune: false, systemAttributes: recorded) }
                minResource = max(last / 100, 1)
            }
            let promotionStep = minResource! * Self.power(reductionFactor, minEarlyStoppingRate + rung)
            if step < promotionStep { return PruneDecision(prune: false, systemAttributes: recorded) }
            if value.isNaN { return PruneDecision(prune: true, systemAttributes: recorded) }
            let key = Self.rungKey(rung)
            recorded[key] = value
            // The study's trials as they were read: this trial's value at this rung counts once.
            var competing = study.trials.compactMap { $0.systemAttributes[key] } + [value]
            if competing.count <= bootstrapCount { return PruneDecision(prune: true, systemAttributes: recorded) }
            var promotable = competing.count / reductionFactor - 1
            if promotable == -1 { promotable = 0 }
            competing.sort()
            let kept = study.maximize ? value >= competing[competing.count - 1 - promotable] : value <= competing[promotable]
            if !kept { return PruneDecision(prune: true, systemAttributes: recorded) }
            rung += 1
        }
    }

    /// The attribute a trial's value at `rung` is kept under: "completed_rung_0".
    public static func rungKey(_ rung: Int) -> String { "completed_rung_\(rung)" }

    static func power(_ base: Int, _ exponent: Int) -> Int { (0..<exponent).reduce(1) { product, _ in product * base } }
}
