import Foundation

/// What a saved model records about the run that made it (`CompiledModel.provenance`), read back
/// as values: the seed `--resume` goes on with, and the data and label mode that `mlp-eval`
/// and `--resume` use when not told otherwise. Keras's files record none of it.
public struct RecordedRun: Sendable {
    /// The seed the run trained with, if the file records it.
    public var seed: UInt64?
    /// The dataset as the run named it, e.g. "cifar100-fine (python)" or "synthetic-v1-coarse".
    public var datasetName: String?
    /// The archive or folder the run read, or "synthetic".
    public var datasetFile: String?
    /// SHA-256 of the bytes the run read.
    public var datasetSHA256: String?
    /// `ImageDataset.contentDigest` of the holdout split, the same from any layout of the data.
    public var holdoutSHA256: String?
    /// Epochs the saved model has trained, over all its runs (`epochs_completed`).
    public var epochsCompleted: Int?
    /// How the model's inputs were made from raw samples, and the class names.
    public var input: InputRecord?
    /// The size an image folder is resized to when read again: the recorded one.
    public var imageSize: [Int]?
    /// How an image folder is decoded when read again: the recorded colour mode.
    public var colorMode: ColorMode?
    /// The seed an image folder's training images are shuffled with when read again.
    public var shuffleSeed: UInt32?
    /// The fraction of the training split the run held out for validation, from its end
    /// (Keras's `validation_split`), as its options record it.
    public var validationSplit: Double?

    public init(provenance: [String: String]) {
        seed = provenance["seed"].flatMap { UInt64($0) }
        datasetName = provenance["dataset"]
        datasetFile = provenance["dataset_file"]
        datasetSHA256 = provenance["dataset_sha256"]
        holdoutSHA256 = provenance["holdout_sha256"]
        epochsCompleted = provenance["epochs_completed"].flatMap { Int($0) }
        input = InputRecord(provenance: provenance)
        imageSize = input?.imageSize
        colorMode = input.map { $0.isImage ? $0.colorMode : .rgb }
        shuffleSeed = provenance["shuffle_seed"].flatMap { UInt32($0) }
        let options = provenance["options"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        validationSplit = (options?["validation_split"] as? NSNumber)?.doubleValue
    }


    /// The label mode the dataset's name records.
    public var labelMode: LabelMode? {
        guard let base = datasetName.map(Self.baseName) else { return nil }
        return LabelMode.allCases.first { base.hasSuffix("-\($0.rawValue)") }
    }

    /// The data file to read when none is given: the recorded one, if it is still there.
    public var availableDataFile: String? {
        guard let datasetFile else { return nil }
        if datasetFile == "synthetic" || FileManager.default.fileExists(atPath: datasetFile) { return datasetFile }
        return nil
    }

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
