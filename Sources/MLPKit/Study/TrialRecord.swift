import Foundation

/// One trial of a search, as its record (`trial.json`) holds it.
public struct TrialRecord: Sendable, Codable {
    /// Where the trial stands: a worker holds it (`running`), or it ended with a score or a
    /// reason, or a pruner stopped it (`pruned`, its score the last epoch's value, as Optuna's).
    public enum Status: String, Sendable, Codable {
        case running, completed, pruned, failed
        /// Asked for and not yet taken: a trial enqueued in a database study
        /// (`study.enqueue_trial`), whose values are the ones asked for.
        case waiting
    }

    /// A worker's attempt at the trial.
    public struct Run: Sendable, Equatable, Codable {
        /// "host:pid:random", as `TrialStorage.worker`.
        public var worker: String
        /// When the worker took the trial.
        public var started: Date
        /// nil while running, and for a run whose worker died.
        public var finished: Date?
    }

    /// The trial's number, from 0 in the order trials were decided (its folder's name).
    public var number: Int
    /// The trial's values, one per key of the space.
    public var hyperparameters: HyperparameterValues
    public var status: Status
    /// The best value of the objective over the trial's epochs.
    public var score: Double?
    /// The epoch (counted from 1, from the trial's start when it went on from another) whose
    /// value is the score, and so whose weights `model.h5` holds.
    public var bestEpoch: Int?
    /// The epochs the trial trains to, and from (a promoted trial starts where its past trial
    /// ended).
    public var epochs: Int
    public var initialEpoch: Int
    /// Wall time of the run that completed it (or failed), in seconds.
    public var seconds: Double = 0
    /// Why it failed.
    public var reason: String?
    /// Hyperband's slot, and the trial it went on from.
    public var slot: HyperbandSlot?
    public var pastTrial: Int?
    /// Seeds the trial's initial weights, dropout and shuffle.
    public var seed: UInt64
    /// Every worker's attempt, in order: more than one only when a worker died in it.
    public var runs: [Run] = []
    /// The objective after each epoch (from 0), recorded as the trial runs when a pruner
    /// judges it, so that every worker's pruner sees it.
    public var intermediateValues: [Int: Double] = [:]
    /// What the pruner recorded on the trial (successive halving's rung values).
    public var prunerAttributes: [String: Double] = [:]
    /// With several objectives, each one's value (the first is `score`); nil with one.
    public var values: [Double]?
    /// Each constraint's value, in the search's order: ≤ 0 when the trial satisfies it.
    public var constraints: [Double]?
    /// The parameter count of the trial's model.
    public var parameterCount: Int?
    /// With cross-validation, each fold's score (the score is their mean).
    public var foldScores: [Double]?

    /// A new trial, running, as a worker decides it (or a sampler's test imagines it).
    ///
    /// - Parameters:
    ///   - initialEpoch: where a promoted trial starts (0 for a new one).
    ///   - seed: the trial's own seed for its weights, dropout and shuffling.
    public init(number: Int, hyperparameters: HyperparameterValues, epochs: Int, initialEpoch: Int, seed: UInt64) {
        self.number = number
        self.hyperparameters = hyperparameters
        status = .running
        self.epochs = epochs
        self.initialEpoch = initialEpoch
        self.seed = seed
    }

    private enum CodingKeys: String, CodingKey {
        case number = "trial", hyperparameters, status, score, bestEpoch = "best_epoch", epochs, initialEpoch = "initial_epoch"
        case seconds, reason, slot = "hyperband", pastTrial = "past_trial", seed, runs
        case intermediateValues = "intermediate_values", prunerAttributes = "pruner_attributes"
        case values, constraints, parameterCount = "parameter_count", foldScores = "fold_scores"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        number = try container.decode(Int.self, forKey: .number)
        hyperparameters = try container.decode(HyperparameterValues.self, forKey: .hyperparameters)
        status = try container.decode(Status.self, forKey: .status)
        score = try container.decodeIfPresent(Double.self, forKey: .score)
        bestEpoch = try container.decodeIfPresent(Int.self, forKey: .bestEpoch)
        epochs = try container.decode(Int.self, forKey: .epochs)
        initialEpoch = try container.decode(Int.self, forKey: .initialEpoch)
        seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        slot = try container.decodeIfPresent(HyperbandSlot.self, forKey: .slot)
        pastTrial = try container.decodeIfPresent(Int.self, forKey: .pastTrial)
        // A seed is a string: JSON's numbers do not hold every 64-bit value.
        guard let seed = UInt64(try container.decode(String.self, forKey: .seed)) else {
            throw DecodingError.dataCorruptedError(forKey: .seed, in: container, debugDescription: "not a seed")
        }
        self.seed = seed
        runs = try container.decodeIfPresent([Run].self, forKey: .runs) ?? []
        // Steps are keys of a JSON object, as text; a value that is not finite is written null.
        let steps = try container.decodeIfPresent([String: Double?].self, forKey: .intermediateValues) ?? [:]
        for (step, value) in steps {
            guard let number = Int(step), number >= 0 else {
                throw DecodingError.dataCorruptedError(forKey: .intermediateValues, in: container, debugDescription: "not a step")
            }
            intermediateValues[number] = value ?? .nan
        }
        prunerAttributes = try container.decodeIfPresent([String: Double].self, forKey: .prunerAttributes) ?? [:]
        values = try container.decodeIfPresent([Double].self, forKey: .values)
        constraints = try container.decodeIfPresent([Double].self, forKey: .constraints)
        parameterCount = try container.decodeIfPresent(Int.self, forKey: .parameterCount)
        foldScores = try container.decodeIfPresent([Double].self, forKey: .foldScores)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(number, forKey: .number)
        try container.encode(hyperparameters, forKey: .hyperparameters)
        try container.encode(status, forKey: .status)
        if let score, score.isFinite { try container.encode(score, forKey: .score) }
        try container.encodeIfPresent(bestEpoch, forKey: .bestEpoch)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(initialEpoch, forKey: .initialEpoch)
        try container.encode(seconds.isFinite ? seconds : 0, forKey: .seconds)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(slot, forKey: .slot)
        try container.encodeIfPresent(pastTrial, forKey: .pastTrial)
        try container.encode(String(seed), forKey: .seed)
        try container.encode(runs, forKey: .runs)
        if !intermediateValues.isEmpty {
            let steps = Dictionary(uniqueKeysWithValues: intermediateValues.map { (String($0.key), $0.value.isFinite ? $0.value : nil) })
            try container.encode(steps, forKey: .intermediateValues)
        }
        if !prunerAttributes.isEmpty { try container.encode(prunerAttributes, forKey: .prunerAttributes) }
        // Values that are not finite have no JSON number: such a list is left out.
        for (list, key) in [(values, CodingKeys.values), (constraints, .constraints), (foldScores, .foldScores)] {
            if let list, list.allSatisfy(\.isFinite) { try container.encode(list, forKey: key) }
        }
        try container.encodeIfPresent(parameterCount, forKey: .parameterCount)
    }

    /// The record in `data` (a `trial.json`), its values checked before any becomes a count or a
    /// size; anything else is one error naming `path`.
    public static func read(_ data: Data, path: String) throws -> TrialRecord {
        func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }
        guard let record = try? JSONRecords.decoder().decode(TrialRecord.self, from: data) else { throw fail("not a trial record") }
        guard (0...1_000_000).contains(record.number) else { throw fail("trial number \(record.number) is outside 0 to 1000000") }
        guard (1...10_000).contains(record.epochs) else { throw fail("epochs \(record.epochs) is outside 1 to 10000") }
        guard (0..<record.epochs).contains(record.initialEpoch) else {
            throw fail("initial_epoch \(record.initialEpoch) is outside 0 to \(record.epochs - 1)")
        }
        for (key, value) in record.hyperparameters.values.sorted(by: { $0.key < $1.key }) {
            do {
                try Hyperparameters.named(key)?.check(.choice([Hyperparameters.named(key)?.normalized(value) ?? value]))
            } catch MLPError.setting(let key, let problem) {
                throw fail("hyperparameter '\(key)': \(problem)")
            }
        }
        return record
    }
}
