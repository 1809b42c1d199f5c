import Foundation

/// KerasTuner's Hyperband schedule (its `HyperbandOracle`), as a function of the trials so far,
/// so that any worker can compute the next step from the shared trial store.
///
/// An iteration runs brackets `brackets - 1` down to 0. Bracket b's round r trains
/// `size(b, r)` trials to `epochs(b, r)` epochs; a trial of round r > 0 is the best trial of
/// round r - 1 not yet promoted, going on from its saved weights and optimizer state. A
/// promotion is made as soon as more of the previous round's trials have completed than
/// will be left behind, as KerasTuner makes it.
public struct Hyperband: Sendable, Equatable {
    /// The name `--algorithm` takes and `search.json` records.
    public static let name = "hyperband"
    public static let summary = "KerasTuner's bracket schedule over random draws"

    /// KerasTuner's `max_epochs`: the epochs a trial of the last round trains to.
    public let maxEpochs: Int
    /// KerasTuner's `factor`: each round keeps 1/factor of the trials and trains them factor times longer.
    public let factor: Int
    /// KerasTuner's `hyperband_iterations`: how many times the whole schedule runs.
    public let iterations: Int

    public init(maxEpochs: Int, factor: Int = 3, iterations: Int = 1) {
        self.maxEpochs = max(maxEpochs, 1)
        self.factor = max(factor, 2)
        self.iterations = max(iterations, 1)
    }

    /// The number of brackets: how many times `factor` divides `maxEpochs` down to 1, plus one.
    public var brackets: Int {
        var epochs = Double(maxEpochs), count = 0
        while epochs >= 1 {
            epochs /= Double(factor)
            count += 1
        }
        return count
    }

    /// Trials in round `round` of bracket `bracket`.
    public func size(bracket: Int, round: Int) -> Int {
        let lastBracketEnd = (1 + log(Double(maxEpochs)) / log(Double(factor))).rounded(.up)
        let end = lastBracketEnd / Double(bracket + 1)
        return Int((end * pow(Double(factor), Double(bracket - round))).rounded(.up))
    }

    /// The epochs a trial of round `round` of bracket `bracket` has trained when it ends.
    public func epochs(bracket: Int, round: Int) -> Int {
        Int((Double(maxEpochs) / pow(Double(factor), Double(bracket - round))).rounded(.up))
    }

    /// Where a trial sits in the schedule.
    public typealias Slot = HyperbandSlot

    /// What a worker should do next.
    public enum Step: Equatable {
        /// Start a new trial, with freshly drawn values, in this slot.
        case new(Slot)
        /// Go on training `trial` (the past round's best not yet promoted) in this slot.
        case promote(trial: Int, Slot)
        /// Nothing to start until running trials finish.
        case wait
        /// The schedule is complete.
        case done
    }

    /// The trials a decision needs: where each sits, whether it completed (with its score),
    /// and which trial it went on from.
    public struct Entry: Sendable {
        /// The trial's number.
        public var number: Int
        public var slot: Slot
        public var pastTrial: Int?
        /// nil while it runs; set once it completed; failed trials are never promoted.
        public var score: Double?
        /// Whether it ended, completed or failed.
        public var finished: Bool

        public init(number: Int, slot: Slot, pastTrial: Int?, score: Double?, finished: Bool) {
            self.number = number
            self.slot = slot
            self.pastTrial = pastTrial
            self.score = score
            self.finished = finished
        }
    }

    /// The next step after `trials`; `objective` orders their scores.
    public func next(after trials: [Entry], objective: Monitor) -> Step {
        // The brackets started, in the order they were started.
        var started: [(iteration: Int, bracket: Int)] = []
        for trial in trials.sorted(by: { $0.number < $1.number }) where trial.slot.round == 0 {
            let key = (trial.slot.iteration, trial.slot.bracket)
            if !started.contains(where: { $0 == key }) { started.append(key) }
        }
        func members(_ key: (iteration: Int, bracket: Int), round: Int) -> [Entry] {
            trials.filter { $0.slot.iteration == key.iteration && $0.slot.bracket == key.bracket && $0.slot.round == round }
        }
        for key in started {
            let last = key.bracket
            guard members(key, round: last).count < size(bracket: key.bracket, round: last) else { continue }
            if members(key, round: 0).count < size(bracket: key.bracket, round: 0) {
                return .new(Slot(iteration: key.iteration, bracket: key.bracket, round: 0))
            }
            for round in 1...max(last, 1) where round <= last {
                let promoted = Set(members(key, round: round).compactMap(\.pastTrial))
                let candidates = members(key, round: round - 1).filter { $0.finished && $0.score != nil && !promoted.contains($0.number) }
                let size = self.size(bracket: key.bracket, round: round), pastSize = self.size(bracket: key.bracket, round: round - 1)
                if candidates.count > pastSize - size {
                    let best = objective.best(candidates.sorted { $0.number < $1.number }) { $0.score }!
                    return .promote(trial: best.number, Slot(iteration: key.iteration, bracket: key.bracket, round: round))
                }
            }
        }
        // Nothing to do in the brackets started: start the next one, or wait, or stop.
        let next: (iteration: Int, bracket: Int)
        if let current = started.last {
            next = current.bracket > 0 ? (current.iteration, current.bracket - 1) : (current.iteration + 1, brackets - 1)
        } else {
            next = (0, brackets - 1)
        }
        guard next.iteration < iterations else { return trials.allSatisfy(\.finished) ? .done : .wait }
        return .new(Slot(iteration: next.iteration, bracket: next.bracket, round: 0))
    }

    /// The whole schedule of one iteration as (trials, epochs) per bracket and round, for the
    /// message that announces it.
    public var schedule: [[(trials: Int, epochs: Int)]] {
        (0..<brackets).reversed().map { bracket in
            (0...bracket).map { (size(bracket: bracket, round: $0), epochs(bracket: bracket, round: $0)) }
        }
    }
}
