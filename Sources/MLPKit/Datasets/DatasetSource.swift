import Foundation

/// How an image folder's images become samples: in colour or in grey.
public enum ColorMode: String, CaseIterable, Sendable {
    case rgb, grayscale

    /// Values per pixel.
    public var channels: Int { self == .rgb ? 3 : 1 }
}

/// What a tool asks of a dataset: which splits, which labels, and how images are decoded.
public struct DataRequest: Sendable {
    /// CIFAR-100's fine or coarse labels (other datasets have one label set).
    public var labelMode: LabelMode
    public var splits: Splits
    /// The (height, width) images are resized to, as `tf.image.resize` does (bilinear, no
    /// antialiasing); nil keeps their size, which must then be one size.
    public var imageSize: [Int]?
    public var colorMode: ColorMode
    /// For a folder of classes without `train/` and `test/`: the last fraction of each
    /// class's files (in Keras's order) held out.
    public var holdoutSplit: Double?
    /// Where to download a dataset named by `--data` from, instead of Keras's address.
    public var downloadURL: String?
    /// For an image folder: the training images are put in the order
    /// `image_dataset_from_directory(shuffle=True, seed=shuffleSeed)` gives them, so that a
    /// validation split (its last fraction) draws from every class; nil keeps the sorted order.
    public var shuffleSeed: UInt32?

    public init(labelMode: LabelMode = .fine, splits: Splits = .both, imageSize: [Int]? = nil, colorMode: ColorMode = .rgb,
                holdoutSplit: Double? = nil, downloadURL: String? = nil, shuffleSeed: UInt32? = nil) {
        self.labelMode = labelMode
        self.splits = splits
        self.imageSize = imageSize
        self.colorMode = colorMode
        self.holdoutSplit = holdoutSplit
        self.downloadURL = downloadURL
        self.shuffleSeed = shuffleSeed
    }
}

/// A kind of dataset that `--data` takes, by name or by path. A new dataset or data format is
/// one file with a type conforming here; `DatasetSources` finds it.
public protocol RegisteredDatasetSource {
    /// What it reads, for messages: "CIFAR-100 (cifar-100-python.tar.gz, ...)".
    static var title: String { get }
    /// The names `--data` takes for it ("cifar100", "synthetic"): read from Keras's cache and
    /// downloaded there when missing, or generated.
    static var names: [String] { get }
    /// Whether the file or folder at `path` holds this source's data, by its layout or its
    /// first bytes (`head`: up to 512 of them, empty for a folder).
    static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool
    /// The dataset at `path`, as `request` asks.
    static func load(path: String, request: DataRequest) throws -> DatasetPair
    /// The dataset called `name`, as `request` asks.
    static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair
    /// The same data's id on the Hugging Face Hub ("uoft-cs/cifar100"), for model cards; nil
    /// for data of the user's own.
    static var hubDataset: String? { get }
}

extension RegisteredDatasetSource {
    public static var hubDataset: String? { nil }
}

/// Where the tools find their data: a name (`cifar100`, `synthetic`), a path in any format a
/// source recognizes, or nothing for CIFAR-100 where Keras keeps it. The sources are found at
/// build time from the types conforming to `RegisteredDatasetSource`.
public enum DatasetSources {
    /// The dataset read when none is named.
    public static let defaultName = "cifar100"

    /// Every source, by title.
    public static var all: [any RegisteredDatasetSource.Type] { registered.sorted { $0.title < $1.title } }

    /// The source `--data NAME` reads.
    public static func named(_ name: String) -> (any RegisteredDatasetSource.Type)? { all.first { $0.names.contains(name) } }

    /// Every name `--data` takes, in alphabetical order.
    public static var names: [String] { all.flatMap { $0.names }.sorted() }

    /// Loads `data`: a source's name, a path, or nil for `defaultName`.
    public static func load(_ data: String?, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        let name = data ?? defaultName
        if let source = named(name) {
            return try source.load(name: name, request: request, log: log)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: name, isDirectory: &isFolder) else {
            throw MLPError.io(path: name, problem: "no such file or folder (the names --data takes: \(names.joined(separator: ", ")))")
        }
        let head = isFolder.boolValue ? Data() : firstBytes(of: name)
        guard let source = all.first(where: { $0.recognizes(path: name, isFolder: isFolder.boolValue, head: head) }) else {
            throw MLPError.format(path: name, problem: "is not a dataset this toolchain reads: none of "
                + all.map { $0.title }.joined(separator: "; "))
        }
        return try source.load(path: name, request: request)
    }

    /// The source that made a dataset a model records by name (`DatasetPair.name`: "cifar100-fine
    /// (python)" is CIFAR-100's), if it is one of the named ones.
    public static func source(ofRecordedName name: String) -> (any RegisteredDatasetSource.Type)? {
        let stem = String(name.prefix { $0 != "-" && $0 != " " })
        return all.first { $0.names.contains(stem) }
    }

    /// How a record keeps where data came from: a dataset's name as it is, a path made absolute.
    public static func recordedPath(_ source: String) -> String {
        named(source) == nil && FileManager.default.fileExists(atPath: source) ? FilePaths.absolute(source) : source
    }

    /// Up to the first 512 bytes of the file at `path` (empty when it cannot be read).
    static func firstBytes(of path: String) -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { return Data() }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 512)) ?? Data()
    }

    /// Keras's dataset folder: `$KERAS_HOME/datasets`, else `~/.keras/datasets`.
    public static var kerasDatasetsFolder: String {
        let env = ProcessInfo.processInfo.environment
        let home = env["KERAS_HOME"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.keras")
        return home + "/datasets"
    }
}
