import Foundation

/// The data a search trains and validates on, as its folder and its `best.json` record it.
public struct DataRecord: Codable, Equatable, Sendable {
    /// The dataset as its loader names it: "cifar100-fine (python)".
    public var name: String
    /// The archive or folder read, or the name given ("synthetic").
    public var file: String
    /// SHA-256 of the training split's images and labels (`ImageDataset.contentDigest`): the
    /// same from any layout of the same data.
    public var trainingSHA256: String
    /// "fine" or "coarse".
    public var labelMode: String
    /// For an image folder: the (height, width) its images were resized to, if they were.
    public var imageSize: [Int]?
    /// For an image folder: "rgb" or "grayscale".
    public var colorMode: String?
    /// For an image folder: the seed its training images were shuffled with.
    public var shuffleSeed: UInt32?

    private enum CodingKeys: String, CodingKey {
        case name, file, trainingSHA256 = "training_sha256", labelMode = "label_mode", imageSize = "image_size", colorMode = "color_mode",
             shuffleSeed = "shuffle_seed"
    }

    public init(name: String, file: String, trainingSHA256: String, labelMode: String, imageSize: [Int]? = nil, colorMode: String? = nil) {
        self.name = name
        self.file = file
        self.trainingSHA256 = trainingSHA256
        self.labelMode = labelMode
        self.imageSize = imageSize
        self.colorMode = colorMode
    }

    /// The record of `data`'s training split, loaded with `labelMode`.
    public init(_ data: DatasetPair, labelMode: LabelMode) {
        self.init(name: data.name, file: DatasetSources.recordedPath(data.source), trainingSHA256: data.train.contentDigest, labelMode: labelMode.rawValue,
                  imageSize: data.imageSize, colorMode: data.colorMode?.rawValue)
        shuffleSeed = data.shuffleSeed
    }

    /// "cifar100-fine (python) (/data/cifar-100-python.tar.gz, training sha256 1a2b3c4d…)".
    public var description: String { "\(name) (\(file), training sha256 \(trainingSHA256.prefix(16))…)" }
}

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
        /// The pruner's name; nil for none.
        public var pruner: String?

        private enum CodingKeys: String, CodingKey {
            case name, trials, epochs, maxEpochs = "max_epochs", factor, iterations, pruner
        }
    }

    public var space: [String: Distribution]
    public var objective: String
    /// The seed, as a string: JSON's numbers do not hold every 64-bit value.
    public var seed: String
    public var validationSplit: Double
    public var batchSize: Int
    public var algorithm: Algorithm
    /// The data the search runs on; nil in a folder of a search that did not record it.
    public var data: DataRecord?
    /// Every objective, when there are several (`objective` is the first); nil with one.
    public var objectives: [String]?
    /// The constraints, as "params<=200000"; nil without.
    public var constraints: [String]?
    /// The folds of cross-validated trials; nil for a validation split.
    public var folds: Int?
    /// The window of a reproducible search: trial n is proposed from the trials numbered
    /// below n − window; nil for a search whose proposals see every trial.
    public var reproducibleWindow: Int?

    private enum CodingKeys: String, CodingKey {
        case space, objective, seed, validationSplit = "validation_split", batchSize = "batch_size", algorithm, data
        case objectives, constraints, folds, reproducibleWindow = "reproducible_window"
    }

    public init(space: [String: Distribution], objective: String, seed: String, validationSplit: Double, batchSize: Int,
                algorithm: Algorithm, data: DataRecord?) {
        (self.space, self.objective, self.seed, self.validationSplit) = (space, objective, seed, validationSplit)
        (self.batchSize, self.algorithm, self.data) = (batchSize, algorithm, data)
    }

    /// Every objective's name, in order.
    public var objectiveNames: [String] { objectives ?? [objective] }

    /// The record in `data` (a `search.json`); anything else is one error naming `path`.
    public static func read(_ data: Data, path: String) throws -> SearchRecord {
        guard let record = try? JSONRecords.decoder().decode(SearchRecord.self, from: data), UInt64(record.seed) != nil else {
            throw MLPError.format(path: path, problem: "not a search's settings (JSON with a seed)")
        }
        do {
            _ = try SearchSpace(entries: record.space.map { ($0.key, $0.value) })
        } catch MLPError.setting(let key, let problem) {
            throw MLPError.format(path: path, problem: "space '\(key)': \(problem)")
        }
        return record
    }

    /// The settings that differ between `self` (the search's) and `other` (a worker's), each
    /// as "key X there, Y here"; empty when the two run one search. With `ignoringTrials`, the
    /// number of trials may differ: a search of more trials goes on from a search of fewer.
    public func differences(from other: SearchRecord, ignoringTrials: Bool) throws -> [String] {
        var theirs = self, mine = other
        if ignoringTrials { (theirs.algorithm.trials, mine.algorithm.trials) = (nil, nil) }
        // The data is the same when its training split is, from wherever it was read.
        if let a = theirs.data, let b = mine.data, a.trainingSHA256 == b.trainingSHA256, a.labelMode == b.labelMode {
            (theirs.data, mine.data) = (nil, nil)
        }
        // A folder that did not record its data cannot tell.
        if theirs.data == nil { mine.data = nil }
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
    public var hyperparameters: HyperparameterValues
    /// The epoch of the score, counted from 1: how long `--retrain` trains.
    public var bestEpoch: Int
    public var batchSize: Int
    /// The search's seed, as `--retrain` trains with it.
    public var seed: String?
    /// The data the search ran on.
    public var data: DataRecord?
    /// The search's folder.
    public var folder: String?
    /// With several objectives: their names, this trial's values, and the Pareto front's trial
    /// numbers (Optuna's `study.best_trials`).
    public var objectives: [String]?
    public var values: [Double]?
    public var bestTrials: [Int]?
    /// With cross-validation, the number of folds: `best.*` is the model of the trial's first fold.
    public var folds: Int?

    private enum CodingKeys: String, CodingKey {
        case trial, objective, score, hyperparameters, bestEpoch = "best_epoch", batchSize = "batch_size", seed, data, folder
        case objectives, values, bestTrials = "best_trials", folds
    }

    public init(trial: Int, objective: String, score: Double?, hyperparameters: HyperparameterValues, bestEpoch: Int, batchSize: Int,
                seed: String?, data: DataRecord?, folder: String?) {
        (self.trial, self.objective, self.score, self.hyperparameters) = (trial, objective, score, hyperparameters)
        (self.bestEpoch, self.batchSize, self.seed, self.data, self.folder) = (bestEpoch, batchSize, seed, data, folder)
    }

    /// The record a model config file holds under `mlp_tune` (a `best.json`), nil when none.
    public init?(configExtra value: JSONValue?) {
        guard let value, let record = try? JSONRecords.decoder().decode(BestTrialRecord.self, from: JSONRecords.encoder().encode(value))
        else { return nil }
        self = record
    }

    /// The record a `best.json`'s bytes hold, nil when they hold none.
    public static func read(bestConfig data: Data) -> BestTrialRecord? {
        struct File: Decodable { let mlp_tune: BestTrialRecord? }
        return (try? JSONRecords.decoder().decode(File.self, from: data))?.mlp_tune
    }
}

extension DataRecord {
    /// What the search records of its data, as the defaults for reading it again.
    ///
    /// - Parameter source: the search's `best.json` or folder, as messages name it.
    public func defaults(source: String) -> DataDefaults {
        var defaults = DataDefaults(source: source)
        defaults.file = file
        defaults.datasetName = name
        defaults.labelMode = LabelMode(rawValue: labelMode)
        defaults.imageSize = imageSize?.count == 2 ? imageSize : nil
        defaults.colorMode = colorMode.flatMap(ColorMode.init(rawValue:))
        defaults.shuffleSeed = shuffleSeed
        return defaults
    }
}
