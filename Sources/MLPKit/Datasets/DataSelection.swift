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
        if path == nil, let defaults, let source = defaults.source, let file = defaults.file {
            if let found = defaults.availableFile {
                log("data: \(found), which \(source) records")
                path = found
            } else if let name = defaults.datasetName.flatMap({ DatasetSources.source(ofRecordedName: $0)?.names.first }) {
                log("note: \(file), which \(source) records as its data, is not there; reading \(name) where Keras keeps it")
                path = name
            } else {
                throw MLPError.io(path: file, problem: "is not there (\(source) records it as its data"
                    + (defaults.relativeFile.map { ", and as \($0) from its folder" } ?? "") + "); give --data PATH")
            }
        }
        // A folder's files are listed shuffled (seed 0 unless given), as Keras lists them; other
        // data keeps its stored order unless a seed is given.
        let shuffle = shuffleSeed ?? defaults?.shuffleSeed
        // A model of images takes a folder's images at its own size, whatever data it was trained on.
        let modelInput = defaults?.input.flatMap { $0.isImage ? $0.shape : nil }
        let modelSize = modelInput.map { Array($0.prefix(2)) }
        let modelColor = modelInput.map { $0.count == 2 || $0[2] == 1 ? ColorMode.grayscale : .rgb }
        let size = imageSize ?? defaults?.imageSize ?? modelSize
        let request = DataRequest(labelMode: labelMode ?? defaults?.labelMode ?? .fine, splits: splits,
                                  imageSize: size, colorMode: colorMode ?? defaults?.colorMode ?? modelColor ?? .rgb,
                                  holdoutSplit: holdoutSplit, downloadURL: downloadURL, shuffleSeed: shuffle ?? 0)
        var pair: DatasetPair
        do {
            pair = try DatasetSources.load(path, request: request, log: log)
            if let shuffle, pair.shuffleSeed == nil, pair.train.count > 1 {
                pair.train = pair.train.shuffled(seed: shuffle)
                pair.shuffleSeed = shuffle
            }
        } catch MLPError.download(let url, let problem) {
            throw MLPError.download(url: url, problem: problem + "; use --data PATH for a local copy"
                + (path == nil ? " (an archive or folder), or --data synthetic for the built-in synthetic set" : ""))
        }
        guard let defaults, let model = defaults.source else { return pair }
        if imageSize == nil, defaults.imageSize == nil, let modelSize, pair.imageSize == modelSize {
            log("note: the images of \(pair.source) are resized to the \(modelSize[0])×\(modelSize[1]) \(model) takes, as tf.image.resize does")
        }
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
    /// The recorded file's path from `recordFolder`, the folder of the file that records it.
    public var relativeFile: String?
    public var recordFolder: String?
    /// The recorded dataset's name ("cifar100-fine (python)"), which names the data to read when
    /// the recorded file is gone and the data is one of the named datasets.
    public var datasetName: String?
    /// A model's inputs, which the data must fit.
    public var input: InputRecord?
    /// A note when the data read is not the data recorded; nil when it is.
    public var note: (@Sendable (DatasetPair) -> String?)?

    public init(source: String?) { self.source = source }

    /// The recorded data file, if it is still there: where it was, else where it is from the
    /// recording file's folder (both moved together).
    public var availableFile: String? {
        guard let file else { return nil }
        if DatasetSources.named(file) != nil || FileManager.default.fileExists(atPath: file) { return file }
        guard let recordFolder else { return nil }
        return [relativeFile, file].compactMap { $0 }.filter { !$0.hasPrefix("/") }.map { FilePaths.resolve($0, in: recordFolder) }
            .first { FileManager.default.fileExists(atPath: $0) }
    }
}
