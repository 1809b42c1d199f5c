import Foundation

/// What a saved model records about the run that made it: its data, its options, its seed and
/// epochs, how its inputs were made, a calibration or a search that chose it. Keras's own files
/// record none of it.
///
/// A file keeps it as text entries (`mlp_<key>` attributes of an `.h5` file, `mlp_provenance` in
/// a `.keras` file's `metadata.json`): `entries` writes them and `init(entries:)` reads them; an
/// entry this version does not know, or cannot read, is kept as it is.
public struct RunRecord: Codable, Equatable, Sendable {
    /// The toolchain version that wrote the file.
    public var version: String?
    /// The dataset as the run named it: "cifar100-fine (python)", "synthetic-v1-coarse".
    public var datasetName: String?
    /// The archive or folder the run read, or "synthetic".
    public var datasetFile: String?
    /// SHA-256 of the bytes the run read.
    public var datasetSHA256: String?
    /// `ImageDataset.contentDigest` of the holdout split, the same from any layout of the data.
    public var holdoutSHA256: String?
    /// The options as training used them.
    public var options: TrainingOptionsRecord?
    /// The seed the run trained with.
    public var seed: UInt64?
    /// When the run began (ISO 8601).
    public var created: String?
    /// The command line that asked for the run.
    public var command: String?
    /// How the model's inputs were made from raw samples, and the class names.
    public var input: InputRecord?
    /// The data file's path from the model file's folder, which finds the data when the two
    /// were moved together; set as the model is saved.
    public var datasetFileRelative: String?
    /// The seed the training images were shuffled with before the validation split.
    public var shuffleSeed: UInt32?
    /// Epochs the saved model has trained, over all its runs.
    public var epochsCompleted: Int?
    /// The epoch early stopping restored, counted from 1.
    public var bestEpoch: Int?
    /// For a checkpoint, the epoch it holds, counted from 1.
    public var checkpointOfEpoch: Int?
    /// Where Ctrl-C stopped the run: "epoch 3, step 12 of 19".
    public var interrupted: String?
    /// The temperature the last Dense layer was divided by (`mlp-eval --temperature-scale`).
    public var temperature: Double?
    /// The model the calibrated one was made from, and the data the temperature was fitted on.
    public var calibratedFrom: String?
    public var calibratedOn: String?
    /// The search that chose the model's values, for a search's retrained model.
    public var tuning: TuningProvenance?
    /// The threshold of its prediction sets (`mlp-eval --conformal ALPHA -o`).
    public var conformal: ConformalRecord?
    /// Entries this version does not know, or could not read, kept as they are.
    public var other: [String: String] = [:]

    public init() {}

    private enum Key {
        static let version = "version", dataset = "dataset", datasetFile = "dataset_file", datasetSHA256 = "dataset_sha256"
        static let datasetFileRelative = "dataset_file_relative"
        static let holdoutSHA256 = "holdout_sha256", options = "options", seed = "seed", created = "created", command = "command"
        static let shuffleSeed = "shuffle_seed", epochsCompleted = "epochs_completed", bestEpoch = "best_epoch"
        static let checkpointOfEpoch = "checkpoint_of_epoch", interrupted = "interrupted", temperature = "temperature"
        static let calibratedFrom = "calibrated_from", calibratedOn = "calibrated_on", tuning = "tuning", conformal = "conformal"
    }

    /// The record a file's entries hold; an empty record for a file of Keras's.
    public init(entries: [String: String]) {
        var rest = entries
        func take<T>(_ key: String, _ read: (String) -> T?) -> T? {
            guard let text = rest[key], let value = read(text) else { return nil }
            rest[key] = nil
            return value
        }
        let text = { (value: String) -> String? in value }
        version = take(Key.version, text)
        datasetName = take(Key.dataset, text)
        datasetFile = take(Key.datasetFile, text)
        datasetFileRelative = take(Key.datasetFileRelative, text)
        datasetSHA256 = take(Key.datasetSHA256, text)
        holdoutSHA256 = take(Key.holdoutSHA256, text)
        options = take(Key.options) { try? JSONRecords.decoder().decode(TrainingOptionsRecord.self, from: Data($0.utf8)) }
        seed = take(Key.seed) { UInt64($0) }
        created = take(Key.created, text)
        command = take(Key.command, text)
        if let input = InputRecord(entries: rest) {
            self.input = input
            for key in InputRecord.Keys.all { rest[key] = nil }
        }
        shuffleSeed = take(Key.shuffleSeed) { UInt32($0) }
        epochsCompleted = take(Key.epochsCompleted) { Int($0) }
        bestEpoch = take(Key.bestEpoch) { Int($0) }
        checkpointOfEpoch = take(Key.checkpointOfEpoch) { Int($0) }
        interrupted = take(Key.interrupted, text)
        temperature = take(Key.temperature) { Double($0) }
        calibratedFrom = take(Key.calibratedFrom, text)
        calibratedOn = take(Key.calibratedOn, text)
        tuning = take(Key.tuning) { try? JSONRecords.decoder().decode(TuningProvenance.self, from: Data($0.utf8)) }
        conformal = take(Key.conformal) { try? JSONRecords.decoder().decode(ConformalRecord.self, from: Data($0.utf8)) }
        other = rest
    }

    /// The record as a file's text entries.
    public var entries: [String: String] {
        var entries = other
        func put(_ key: String, _ value: String?) { if let value { entries[key] = value } }
        put(Key.version, version)
        put(Key.dataset, datasetName)
        put(Key.datasetFile, datasetFile)
        put(Key.datasetFileRelative, datasetFileRelative)
        put(Key.datasetSHA256, datasetSHA256)
        put(Key.holdoutSHA256, holdoutSHA256)
        put(Key.options, options?.json.text)
        put(Key.seed, seed.map { String($0) })
        put(Key.created, created)
        put(Key.command, command)
        if let input { entries.merge(input.entries) { _, own in own } }
        put(Key.shuffleSeed, shuffleSeed.map { String($0) })
        put(Key.epochsCompleted, epochsCompleted.map { String($0) })
        put(Key.bestEpoch, bestEpoch.map { String($0) })
        put(Key.checkpointOfEpoch, checkpointOfEpoch.map { String($0) })
        put(Key.interrupted, interrupted)
        put(Key.temperature, temperature.map(pythonFloat))
        put(Key.calibratedFrom, calibratedFrom)
        put(Key.calibratedOn, calibratedOn)
        put(Key.tuning, tuning.flatMap { try? JSONRecords.text($0) })
        put(Key.conformal, conformal.flatMap { try? JSONRecords.text($0) })
        return entries
    }

    public init(from decoder: Decoder) throws { self.init(entries: try [String: String](from: decoder)) }

    public func encode(to encoder: Encoder) throws { try entries.encode(to: encoder) }

    /// The record of a model saved at `path`: the data file's path from the model's folder, for
    /// a data file recorded by its absolute path.
    public func saved(at path: String) -> RunRecord {
        var record = self
        if let file = datasetFile, file.hasPrefix("/") {
            record.datasetFileRelative = FilePaths.relative(file, from: FilePaths.absolute(path, folderOnly: true))
        }
        return record
    }

    /// Whether the file records nothing (a file of Keras's).
    public var isEmpty: Bool { entries.isEmpty }

    /// The record as typed JSON, for `mlp-inspect --json`: numbers as numbers, the options, the
    /// shapes and the class names as the JSON they are.
    public var json: JSONValue {
        var object = entries.mapValues(JSONValue.string)
        // Whole numbers exactly (a seed above 2^63 stays the string it is); the temperature as a float.
        for key in [Key.seed, Key.epochsCompleted, Key.bestEpoch, Key.checkpointOfEpoch, Key.shuffleSeed] {
            if let text = entries[key], let number = Int(text) { object[key] = .int(number) }
        }
        if let temperature { object[Key.temperature] = .double(temperature) }
        for key in [Key.options, Key.tuning, Key.conformal] + InputRecord.Keys.json {
            if let text = entries[key], let value = JSONValue(parsing: text) { object[key] = value }
        }
        return .object(object)
    }
}

/// The options a saved model was trained with, as its record keeps them (`options`); an option
/// this version does not know is kept as it is.
public struct TrainingOptionsRecord: Codable, Equatable, Sendable {
    public var epochs: Int?
    public var batchSize: Int?
    /// The optimizer's name, lowercased: "rmsprop".
    public var optimizer: String?
    public var learningRate: Double?
    public var validationSplit: Double?
    public var metrics: [String]?
    public var dtypePolicy: String?
    /// "cosine" for a cosine-decayed rate.
    public var lrSchedule: String?
    /// For an architecture given by `--layers`: "128:relu,64:relu", and its dropout, L2 factor
    /// and batch normalization.
    public var layers: String?
    public var dropout: Double?
    public var l2: Double?
    public var batchNorm: Bool?
    /// The model config file, or the model the run went on from.
    public var model: String?
    public var resume: String?
    public var monitor: String?
    public var minDelta: Double?
    /// The options of the registered callbacks the run took (`early_stopping`), and any this
    /// version does not know.
    public var extra: [String: JSONValue] = [:]

    private enum Key: String, CaseIterable {
        case epochs, batchSize = "batch_size", optimizer, learningRate = "learning_rate", validationSplit = "validation_split", metrics
        case dtypePolicy = "dtype_policy", lrSchedule = "lr_schedule", layers, dropout, l2, batchNorm = "batch_norm", model, resume
        case monitor, minDelta = "min_delta"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        guard var object = try JSONValue(from: decoder).object else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "options are not an object"))
        }
        func take<T>(_ key: Key, _ read: (JSONValue) -> T?) -> T? {
            guard let value = object[key.rawValue], let read = read(value) else { return nil }
            object[key.rawValue] = nil
            return read
        }
        (epochs, batchSize) = (take(.epochs, \.int), take(.batchSize, \.int))
        (learningRate, validationSplit, dropout, l2) = (take(.learningRate, \.number), take(.validationSplit, \.number),
                                                        take(.dropout, \.number), take(.l2, \.number))
        minDelta = take(.minDelta, \.number)
        (optimizer, dtypePolicy, lrSchedule, layers) = (take(.optimizer, \.string), take(.dtypePolicy, \.string),
                                                        take(.lrSchedule, \.string), take(.layers, \.string))
        (model, resume, monitor) = (take(.model, \.string), take(.resume, \.string), take(.monitor, \.string))
        batchNorm = take(.batchNorm, \.bool)
        metrics = take(.metrics) { value in value.array.map { $0.compactMap(\.string) } }
        extra = object
    }

    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }

    /// The record as JSON, floats written as floats ("0.0"), as Python's `json.dumps` writes them.
    public var json: JSONValue {
        var object = extra
        func put(_ key: Key, _ value: JSONValue?) { if let value { object[key.rawValue] = value } }
        put(.epochs, epochs.map(JSONValue.int))
        put(.batchSize, batchSize.map(JSONValue.int))
        put(.optimizer, optimizer.map(JSONValue.string))
        put(.learningRate, learningRate.map(JSONValue.double))
        put(.validationSplit, validationSplit.map(JSONValue.double))
        put(.metrics, metrics.map { JSONValue($0) })
        put(.dtypePolicy, dtypePolicy.map(JSONValue.string))
        put(.lrSchedule, lrSchedule.map(JSONValue.string))
        put(.layers, layers.map(JSONValue.string))
        put(.dropout, dropout.map(JSONValue.double))
        put(.l2, l2.map(JSONValue.double))
        put(.batchNorm, batchNorm.map(JSONValue.bool))
        put(.model, model.map(JSONValue.string))
        put(.resume, resume.map(JSONValue.string))
        put(.monitor, monitor.map(JSONValue.string))
        put(.minDelta, minDelta.map(JSONValue.double))
        return .object(object)
    }

    /// Each option as the model card's table shows it, by key: ("batch_size", "128").
    public var rows: [(key: String, value: String)] {
        guard let object = json.object else { return [] }
        return object.keys.sorted().map { ($0, object[$0]!.displayText) }
    }
}

/// The threshold of a model's prediction sets, as its record keeps it (`conformal`): the
/// miscoverage level, the conformity score (`lac`, `aps`), the quantile, the seed of APS's
/// draws and the calibration samples.
public struct ConformalRecord: Codable, Equatable, Sendable {
    public var alpha: Double
    public var score: String
    public var quantile: Double
    public var seed: UInt32
    public var samples: Int

    public init(alpha: Double, score: String, quantile: Double, seed: UInt32, samples: Int) {
        (self.alpha, self.score, self.quantile, self.seed, self.samples) = (alpha, score, quantile, seed, samples)
    }
}

/// What a retrained model records of the search that chose its values (its record's `tuning`).
public struct TuningProvenance: Codable, Equatable, Sendable {
    public var trial: Int
    public var objective: String
    public var score: Double?
    public var folder: String

    public init(trial: Int, objective: String, score: Double?, folder: String) {
        (self.trial, self.objective, self.score, self.folder) = (trial, objective, score, folder)
    }
}

extension RunRecord {
    /// The label mode the dataset's name records.
    public var labelMode: LabelMode? {
        guard let base = datasetName.map(Self.baseName) else { return nil }
        return LabelMode.allCases.first { base.hasSuffix("-\($0.rawValue)") }
    }

    /// The size an image folder is resized to when read again: the recorded one.
    public var imageSize: [Int]? { input?.imageSize }

    /// How an image folder is decoded when read again: the recorded colour mode.
    public var colorMode: ColorMode? { input.map { $0.isImage ? $0.colorMode : .rgb } }

    /// The fraction of the training split the run held out for validation, from its end
    /// (Keras's `validation_split`).
    public var validationSplit: Double? { options?.validationSplit }

    /// Whether `data` differs from the data the run recorded: by the holdout split's content
    /// where both are known, else by the dataset's name (its file layout aside).
    public func differs(from data: DatasetPair) -> Bool { differs(from: data, holdoutDigest: holdoutDigest(of: data)) }

    /// `data`'s holdout digest when there is a recorded one to compare it with (hashing the
    /// split takes tens of milliseconds: done once per comparison).
    private func holdoutDigest(of data: DatasetPair) -> String? {
        holdoutSHA256 != nil && data.test.count > 0 ? data.test.contentDigest : nil
    }

    private func differs(from data: DatasetPair, holdoutDigest: String?) -> Bool {
        guard let datasetName else { return false }
        if let holdoutSHA256, let holdoutDigest { return holdoutSHA256 != holdoutDigest }
        return Self.baseName(datasetName) != Self.baseName(data.name)
    }

    /// One line saying that `data` is not the data the model at `path` was trained on, naming
    /// both with their SHA-256; nil when it is the same or the file records none.
    public func dataNote(path: String, data: DatasetPair) -> String? {
        let digest = holdoutDigest(of: data)
        guard differs(from: data, holdoutDigest: digest), let datasetName else { return nil }
        let recorded = holdoutSHA256.map { "holdout sha256 \($0.prefix(16))…" } ?? datasetSHA256.map { "sha256 \($0.prefix(16))…" } ?? ""
        let given = digest.map { "holdout sha256 \($0.prefix(16))…" } ?? "sha256 \(data.checksum.prefix(16))…"
        return "note: \(path) was trained on \(datasetName) (\(recorded)); this is \(data.name) (\(given))"
    }

    /// "cifar100-fine (python)" → "cifar100-fine".
    static func baseName(_ name: String) -> String {
        name.range(of: " (").map { String(name[..<$0.lowerBound]) } ?? name
    }
}

extension DataDefaults {
    /// What the model file at `path` records of its data.
    public init(record: RunRecord, model path: String) {
        self.init(source: path)
        (file, labelMode, imageSize, colorMode, shuffleSeed) = (record.datasetFile, record.labelMode, record.imageSize, record.colorMode,
                                                                record.shuffleSeed)
        (relativeFile, recordFolder, datasetName) = (record.datasetFileRelative, FilePaths.absolute(path, folderOnly: true), record.datasetName)
        input = record.input
        note = { record.dataNote(path: path, data: $0) }
    }
}
