import Foundation

/// Optuna's `HyperbandPruner`: brackets of successive halving with rates 0, 1, ..., each trial
/// placed in one by the CRC-32 of "study_trialnumber", in proportion to the brackets' budgets,
/// and judged only against the trials of its own bracket. With no `maxResource` it is the last
/// step of the first completed trials plus one, estimated once.
public final class HyperbandPruner: RegisteredPruner {
    public static let name = "hyperband"
    public static let summary = "Optuna's HyperbandPruner"

    public let minResource: Int
    public private(set) var maxResource: Int?
    public let reductionFactor: Int
    public let bootstrapCount: Int
    private var brackets: [SuccessiveHalvingPruner] = []
    private var budgets: [Int] = []

    /// Optuna's defaults: min_resource 1, max_resource "auto", reduction factor 3.
    public convenience init() { self.init(minResource: 1) }

    public init(minResource: Int = 1, maxResource: Int? = nil, reductionFactor: Int = 3, bootstrapCount: Int = 0) {
        self.minResource = minResource
        self.maxResource = maxResource
        self.reductionFactor = reductionFactor
        self.bootstrapCount = bootstrapCount
    }

    public func prune(study: PrunerStudy, trial: PrunerTrial) -> PruneDecision {
        if brackets.isEmpty { makeBrackets(study) }
        guard !brackets.isEmpty else { return PruneDecision(prune: false) }
        let bracket = self.bracket(study: study.name, number: trial.number)
        var own = study
        own.trials = study.trials.filter { self.bracket(study: study.name, number: $0.number) == bracket }
        return brackets[bracket].prune(study: own, trial: trial)
    }

    private func makeBrackets(_ study: PrunerStudy) {
        if maxResource == nil {
            guard let last = study.trials.filter({ $0.state == .complete }).compactMap(\.lastStep).max() else { return }
            maxResource = last + 1
        }
        let count = Int((log(Double(maxResource!) / Double(minResource)) / log(Double(reductionFactor))).rounded(.down)) + 1
        for bracket in 0..<count {
            let s = count - 1 - bracket
            budgets.append(Int((Double(count * SuccessiveHalvingPruner.power(reductionFactor, s)) / Double(s + 1)).rounded(.up)))
            brackets.append(SuccessiveHalvingPruner(minResource: minResource, reductionFactor: reductionFactor,
                                                    minEarlyStoppingRate: bracket, bootstrapCount: bootstrapCount))
        }
    }

    /// The bracket of trial `number`: the CRC-32 of "study_number" modulo the total budget,
    /// counted off against each bracket's budget in turn.
    func bracket(study: String, number: Int) -> Int {
        let key = Array("\(study)_\(number)".utf8)
        var n = Int(Checksums.crc32(key)) % budgets.reduce(0, +)
        for (index, budget) in budgets.enumerated() {
            n -= budget
            if n < 0 { return index }
        }
        return budgets.count - 1
    }
}
