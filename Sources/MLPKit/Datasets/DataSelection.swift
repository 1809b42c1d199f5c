import Foundation

/// The data a tool was asked to read, each part optional: a dataset by name or path, its
/// labels, and how an image folder is decoded. What is left out comes from `DataDefaults` (what
/// a model file or a search records), then from the tools' defaults.
public struct DataSelection: Sendable, Equatable {
    /// A dataset's name ("cifar100", "synthetic") or a path; nil for the recorded data, else CIFAR-100.
    public var data: String?
    public var labelMode: LabelMode?
    public var downloadURL: String?
    /// For an image folder: the (height, width) to resize to, the colour mode, the holdout
    /// fraction of a folder without `train/` and `test/`, and the shuffle of the training images.
    public var imageSize: [Int]?
    public var colorMode: ColorMode?
    public var holdoutSplit: Double?
    public var shuffleSeed: UInt32?

    public init(data: String? = nil, labelMode: LabelMode? = nil) {
        self.data = data
        self.labelMode = labelMode
    }

    /// Loads the data. What the selection leaves out comes from `defaults`: the label mode, the
    /// image size, the colour mode, the shuffle and (without `data`) the data file; data other
    /// than the recorded gets a note, and data of another shape than the model's is refused.
    ///
    /// - Parameter log: where the lines about the data go (notes included).
    public func load(splits: Splits = .both, defaults: DataDefaults? = nil, log: (String) -> Void = { print($0) }) throws -> DatasetPair {
        var path = data
        if path == nil, let file = defaults?.availableFile, let source = defaults?.source {
            log("data: \(file), which \(source) records")
            path = file
        }
        let request = DataRequest(labelMode: labelMode ?? defaults?.labelMode ?? .fine, splits: splits,
                                  imageSize: imageSize ?? defaults?.imageSize, colorMode: colorMode ?? defaults?.colorMode ?? .rgb,
                                  holdoutSplit: holdoutSplit, downloadURL: downloadURL,
                                  shuffleSeed: shuffleSeed ?? defaults?.shuffleSeed ?? 0)
        let pair: DatasetPair
        do {
            pair = try DatasetSources.load(path, request: request, log: log)
        } catch MLPError.download(let url, let problem) {
            throw MLPError.download(url: url, problem: problem + "; use --data PATH for a local copy"
                + (path == nil ? " (an archive or folder), or --data synthetic for the built-in synthetic set" : ""))
        }
        guard let defaults, let model = defaults.source else { return pair }
        if let input = defaults.input { try input.checkFits(pair.test.count > 0 ? pair.test : pair.train, model: model) }
        if let note = defaults.note?(pair) { log(note) }
        return pair
    }
}

/// What a model file or a search records of its data, as the defaults for reading it again.
public struct DataDefaults: Sendable {
    /// The model file or search folder that records them, as messages name it.
    public var source: String?
    /// The recorded data file, or "synthetic".
    public var file: String?
    public var labelMode: LabelMode?
    public var imageSize: [Int]?
    public var colorMode: ColorMode?
    public var shuffleSeed: UInt32?
    /// A model's inputs, which the data must fit.
    public var input: InputRecord?
    /// A note when the data read is not the data recorded; nil when it is.
    public var note: (@Sendable (DatasetPair) -> String?)?

    public init(source: String?) { self.source = source }

    /// The recorded data file, if it is still there.
    public var availableFile: String? {
        guard let file else { return nil }
        if file == "synthetic" || FileManager.default.fileExists(atPath: file) { return file }
        return nil
    }
}
