import Foundation

/// A search's settings as `search.json` records them: two workers run one search only when these
/// agree.
public struct SearchRecord: Codable, Equatable, Sendable {
    /// How trials are chosen, as `search.json` spells it.
    public struct Algorithm: Codable, Equatable, Sendable {
        /// The sampler's name, or "hyperband".
        public var name: String
        public var trials: Int?
        public var epochs: Int?
        public var maxEpochs: Int?
        public var factor: Int?
        public var iterations: Int?

        private enum CodingKeys: String, CodingKey {
            case name, trials, epochs, maxEpochs = "max_epochs", factor, iterations
        }
    }

    public var space: [String: Distribution]
    public var objective: String
    /// The seed, as a string: JSON's numbers do not hold every 64-bit value.
    public var seed: String
    public var validationSplit: Double
    public var batchSize: Int
    public var algorithm: Algorithm

    private enum CodingKeys: String, CodingKey {
        case space, objective, seed, validationSplit = "validation_split", batchSize = "batch_size", algorithm
    }

    /// The record in `data` (a `search.json`); anything else is one error naming `path`.
    public static func read(_ data: Data, path: String) throws -> SearchRecord {
        guard let record = try? JSONRecords.decoder().decode(SearchRecord.self, from: data), UInt64(record.seed) != nil else {
            throw MLPError.format(path: path, problem: "not a search's settings (JSON with a seed)")
        }
        return record
    }

    /// The settings that differ between `self` (the search's) and `other` (a worker's), each
    /// as "key X there, Y here"; empty when the two run one search. With `ignoringTrials`, the
    /// number of trials may differ: a search of more trials goes on from a search of fewer.
    public func differences(from other: SearchRecord, ignoringTrials: Bool) throws -> [String] {
        var theirs = self, mine = other
        if ignoringTrials { (theirs.algorithm.trials, mine.algorithm.trials) = (nil, nil) }
        guard case .object(let a) = try JSONRecords.value(theirs), case .object(let b) = try JSONRecords.value(mine) else { return [] }
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            let there = a[key] ?? .null, here = b[key] ?? .null
            guard there != here else { return nil }
            func text(_ value: JSONValue) -> String { (try? JSONRecords.text(value)) ?? "?" }
            return "\(key) \(text(there)) there, \(text(here)) here"
        }
    }
}

/// What `best.json` records about the search beside the Keras model config (under `mlp_tune`).
public struct BestTrialRecord: Codable, Equatable, Sendable {
    public var trial: Int
    public var objective: String
    public var score: Double?
    public var hyperparameters: Hyperparameters
    /// The epoch of the score, counted from 1.
    public var bestEpoch: Int
    public var batchSize: Int

    private enum CodingKeys: String, CodingKey {
        case trial, objective, score, hyperparameters, bestEpoch = "best_epoch", batchSize = "batch_size"
    }

    /// The record a `best.json`'s bytes hold, nil when they hold none.
    public static func read(bestConfig data: Data) -> BestTrialRecord? {
        struct File: Decodable { let mlp_tune: BestTrialRecord? }
        return (try? JSONRecords.decoder().decode(File.self, from: data))?.mlp_tune
    }
}

/// What a retrained model records of the search that chose its values (its provenance's `tuning`).
public struct TuningProvenance: Codable, Equatable, Sendable {
    public var trial: Int
    public var objective: String
    public var score: Double?
    public var folder: String
}
