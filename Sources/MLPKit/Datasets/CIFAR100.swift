import Foundation

/// Which labels to read: the 100 fine classes or the 20 coarse superclasses.
/// Which splits a load reads: both, only the holdout (evaluation), or only the training set
/// (tuning, which must never look at the holdout).
public enum Splits: Sendable {
    case both, holdoutOnly, trainingOnly

    var train: Bool { self != .holdoutOnly }
    var test: Bool { self != .trainingOnly }
}

/// Which of CIFAR-100's two label sets to train on: the 100 fine classes or the 20 coarse superclasses (Keras's
/// `label_mode`).
public enum LabelMode: String, CaseIterable, Sendable {
    case fine, coarse

    var pickleKey: String { self == .fine ? "fine_labels" : "coarse_labels" }
    var namesKey: String { self == .fine ? "fine_label_names" : "coarse_label_names" }
    public var classCount: Int { self == .fine ? 100 : 20 }
}

/// CIFAR-100 read exactly as Keras's `cifar100.load_data()` reads it: each image turned from
/// the files' channel planes (3, 32, 32) into (32, 32, 3), height × width × channel.
///
/// Accepts the official Python archive `cifar-100-python.tar.gz` or its folder (`train`, `test`,
/// `meta`: Python 2 pickles) and the official binary archive `cifar-100-binary.tar.gz` or its
/// folder (`train.bin`, `test.bin`: records of coarse label, fine label, 3,072 pixel bytes).
public enum CIFAR100: RegisteredDatasetSource {
    public static let title = "CIFAR-100 (cifar-100-python.tar.gz, cifar-100-binary.tar.gz or their folders)"
    public static let names = ["cifar100"]
    public static let hubDataset: String? = "uoft-cs/cifar100"

    /// Where Keras downloads CIFAR-100 from.
    public static let officialURL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    /// The MD5 of the official archive, as Keras checks it.
    public static let officialMD5 = "eb9058c3a382ffc7106e4002c42a8d85"
    /// Overrides the download address (also `--download-url`).
    public static let urlVariable = "MLP_CIFAR100_URL"
    /// Overrides the expected MD5, for a mirror that serves a different archive.
    public static let md5Variable = "MLP_CIFAR100_MD5"

    /// A folder in either layout, or an archive: gzip's magic bytes, or a tar's header.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool {
        if isFolder { return (try? datasetFolder(in: path)) != nil }
        if head.starts(with: [0x1F, 0x8B]) { return true }
        return head.count >= 262 && head[head.startIndex + 257..<head.startIndex + 262].elementsEqual(Array("ustar".utf8))
    }

    /// CIFAR-100 where Keras keeps it (`~/.keras/datasets`), downloaded there when missing and
    /// extracted beside the archive, as Keras does.
    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        try load(path: path, labelMode: request.labelMode, splits: request.splits)
    }

    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        let (labelMode, splits, downloadURL) = (request.labelMode, request.splits, request.downloadURL)
        let folder = DatasetSources.kerasDatasetsFolder
        let fm = FileManager.default
        for candidate in ["cifar-100-python", "cifar-100-python/cifar-100-python", "cifar-100-python_extracted/cifar-100-python"] {
            let path = folder + "/" + candidate
            if fm.fileExists(atPath: path + "/train") { return try load(path: path, labelMode: labelMode, splits: splits) }
        }
        let environment = ProcessInfo.processInfo.environment
        let archive = try Download.cached("cifar-100-python.tar.gz", title: "CIFAR-100", url: downloadURL ?? environment[urlVariable] ?? officialURL,
                                          checksum: .md5(environment[md5Variable] ?? officialMD5), log: log)
        // Like Keras, keep the archive extracted beside it: later runs read the files directly.
        let extracted = folder + "/cifar-100-python"
        if (try? extract(archive: archive, into: extracted)) != nil {
            return try load(path: extracted, labelMode: labelMode, splits: splits)
        }
        return try load(path: archive, labelMode: labelMode, splits: splits)
    }

    /// Height, width and channels of every CIFAR-100 image.
    public static let imageShape = [32, 32, 3]
    static let pixels = 3072

    /// Loads from an archive or a folder in either official layout.
    /// With `.holdoutOnly`, for evaluation, only the holdout split and the class names are read:
    /// from the user's cache when an earlier read of the same archive kept them there
    /// (`HoldoutCache`), else from the archive, only as far as they lie; no checksum is computed. With
    /// `.trainingOnly` the holdout split is never read into images (the returned one is empty),
    /// and an archive or folder without it loads.
    ///
    /// Files stream from disk (through the inflater for an archive) straight into the images,
    /// so the 60,000 images, 184 MB as bytes, are all the memory loading takes; the SHA-256 of
    /// the files is computed in the same pass.
    ///
    /// - Parameter cache: the holdout cache's folder (`HoldoutCache.folder`, nil for none).
    public static func load(path: String, labelMode: LabelMode = .fine, splits: Splits = .both, cache: String? = HoldoutCache.folder)
        throws -> DatasetPair
    {
        let includeTrain = splits.train
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw MLPError.io(path: path, problem: "no such file or folder")
        }
        var parts = Parts(splits: splits, labelMode: labelMode)
        var checksum = ""
        if isFolder.boolValue {
            let folder = try datasetFolder(in: path)
            var digest = [String]()
            for name in ["meta", "fine_label_names.txt", "coarse_label_names.txt", "train", "test", "train.bin", "test.bin"] {
                let file = folder + "/" + name
                guard FileManager.default.fileExists(atPath: file), parts.wants(name) else { continue }
                let reader = try CompressedFileReader(path: file, hashing: includeTrain, inflating: false)
                try parts.add(name: name, BoundedReader(reader, count: reader.fileSize))
                if includeTrain {
                    try reader.hashRemainder()
                    digest.append("\(name):\(reader.sha256 ?? "")")
                }
            }
            checksum = digest.joined(separator: " ")
        } else {
            if splits == .holdoutOnly, let cached = HoldoutCache.load(archive: path, labelMode: labelMode, in: cache) { return cached }
            let reader = try CompressedFileReader(path: path, hashing: includeTrain)
            var tar = TarReader(reader)
            while let entry = try tar.next() {
                guard entry.type == "0" || entry.type == "7", let member = tar.member else { continue }
                let name = entry.name.split(separator: "/").last.map(String.init) ?? entry.name
                guard parts.wants(name) else { continue }
                try parts.add(name: name, member)
                if !includeTrain, parts.test != nil, parts.names != nil { break }
            }
            if includeTrain {
                try reader.hashRemainder()
                checksum = reader.sha256 ?? ""
            }
        }
        let pair = try parts.finish(path: path, checksum: checksum)
        if !isFolder.boolValue, splits.test { HoldoutCache.store(pair, archive: path, labelMode: labelMode, in: cache) }
        return pair
    }

    /// Extracts the dataset's files from `archive` into `folder` (which must not exist yet), as
    /// Keras extracts its download: into a temporary folder beside it, renamed when complete.
    public static func extract(archive: String, into folder: String) throws {
        let temporary = folder + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
            var tar = TarReader(try CompressedFileReader(path: archive))
            while let entry = try tar.next() {
                let name = entry.name.split(separator: "/").last.map(String.init) ?? ""
                guard entry.type == "0" || entry.type == "7", Parts.wanted.contains(name), let member = tar.member else { continue }
                try copy(member, to: temporary + "/" + name)
            }
            guard rename(temporary, folder) == 0 else {
                throw MLPError.io(path: folder, problem: "cannot create folder: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Writes what is left of `member` to a new file at `target`, a megabyte at a time.
    private static func copy(_ member: BoundedReader, to target: String) throws {
        guard FileManager.default.createFile(atPath: target, contents: nil), let handle = FileHandle(forWritingAtPath: target) else {
            throw MLPError.io(path: target, problem: "cannot write file")
        }
        defer { try? handle.close() }
        while member.remaining > 0 {
            let chunk = try member.read(count: min(member.remaining, 1 << 20))
            do { try handle.write(contentsOf: chunk) } catch { throw MLPError.io(path: target, problem: "cannot write file") }
        }
    }

    /// The folder holding the files: `path` itself or a `cifar-100-python` / `cifar-100-binary`
    /// folder inside it.
    static func datasetFolder(in path: String) throws -> String {
        // `train` is a file here; an image folder's `train` is a folder.
        func isFile(_ path: String) -> Bool {
            var folder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && !folder.boolValue
        }
        for candidate in [path, path + "/cifar-100-python", path + "/cifar-100-binary"] where isFile(candidate + "/train") || isFile(candidate + "/train.bin") {
            return candidate
        }
        throw MLPError.format(path: path, problem: "folder holds neither CIFAR-100 Python files (train, test, meta) nor binary files (train.bin, test.bin)")
    }

    /// What has been read so far from an archive or folder.
    struct Parts {
        static let wanted: Set<String> = ["train", "test", "meta", "train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt"]
        var train: (images: [UInt8], labels: [Int32])?
        var test: (images: [UInt8], labels: [Int32])?
        var names: [String]?
        var layout = "python"
        let splits: Splits
        let labelMode: LabelMode

        init(splits: Splits, labelMode: LabelMode) {
            self.splits = splits
            self.labelMode = labelMode
        }

        func wants(_ name: String) -> Bool {
            Self.wanted.contains(name) && (splits.train || !name.hasPrefix("train")) && (splits.test || !name.hasPrefix("test"))
        }

        mutating func add(name: String, _ source: BoundedReader) throws {
            guard wants(name) else { return }
            switch name {
            case "train": train = try readPickleSplit(source, labelKey: labelMode.pickleKey, classes: labelMode.classCount)
            case "test": test = try readPickleSplit(source, labelKey: labelMode.pickleKey, classes: labelMode.classCount)
            case "meta": names = try readPickleNames(source, key: labelMode.namesKey)
            case "train.bin":
                layout = "binary"
                train = try readBinarySplit(source, labelMode: labelMode)
            case "test.bin":
                layout = "binary"
                test = try readBinarySplit(source, labelMode: labelMode)
            case "\(labelMode.namesKey).txt":
                guard source.remaining <= 1 << 20 else {
                    throw MLPError.format(path: source.path, problem: "\(source.remaining) bytes is too large for a list of class names")
                }
                names = String(decoding: try source.readRest(), as: UTF8.self).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            default: break
            }
        }

        func finish(path: String, checksum: String) throws -> DatasetPair {
            let train = splits.train ? train : ([], [])
            let test = splits.test ? test : ([], [])
            let missing = [("train", train == nil), ("test", test == nil)].filter(\.1).map(\.0)
            guard let train, let test, missing.isEmpty else {
                throw MLPError.format(path: path, problem: "no CIFAR-100 \(missing.joined(separator: " and ")) split found")
            }
            let classNames = names ?? (0..<labelMode.classCount).map { "class_\($0)" }
            guard classNames.count == labelMode.classCount else {
                throw MLPError.format(path: path, problem: "\(classNames.count) \(labelMode.rawValue) class names, expected \(labelMode.classCount)")
            }
            return DatasetPair(
                train: ImageDataset(images: train.images, labels: train.labels, shape: imageShape, classNames: classNames),
                test: ImageDataset(images: test.images, labels: test.labels, shape: imageShape, classNames: classNames),
                name: "cifar100-\(labelMode.rawValue) (\(layout))", source: path, checksum: checksum)
        }
    }

    /// One Python split: a dict with `data` (a (n, 3072) uint8 array) and label lists. The
    /// pixels go from the stream straight into channels-last images.
    static func readPickleSplit(_ source: BoundedReader, labelKey: String, classes: Int) throws -> (images: [UInt8], labels: [Int32]) {
        let path = source.path
        var streamed: [UInt8]?
        var reader = PickleReader(source) { count, read in
            guard streamed == nil, count % pixels == 0 else {
                throw MLPError.format(path: path, problem: "pickle holds a byte string of \(count) bytes, not the one array of 3072-byte images")
            }
            streamed = try readImages(count: count / pixels, stride: pixels, offset: 0, read: read) { _, _ in }
        }
        let root = try reader.read()
        guard case .array(let shape, let dtype, let data)? = reader.lookup("data", in: root) else {
            throw MLPError.format(path: path, problem: "pickle has no numpy array under 'data'")
        }
        let byteCount: Int
        switch data {
        case .bytes(let bytes): byteCount = bytes.count
        case .streamed(let count): byteCount = count
        default: byteCount = -1
        }
        guard dtype == "u1" || dtype == "|u1", shape.count == 2, shape[1] == pixels, shape[0] <= byteCount / pixels,
              byteCount == shape[0] * pixels else {
            throw MLPError.format(path: path, problem: "'data' is a \(dtype) array of shape \(shape), expected uint8 (n, 3072)")
        }
        guard case .list(let items)? = reader.lookup(labelKey, in: root) else {
            throw MLPError.format(path: path, problem: "pickle has no '\(labelKey)' list")
        }
        let labels = try items.map { item -> Int32 in
            guard case .int(let value) = item, (0..<classes).contains(value) else {
                throw MLPError.format(path: path, problem: "'\(labelKey)' holds a value outside 0..<\(classes)")
            }
            return Int32(value)
        }
        guard labels.count == shape[0] else {
            throw MLPError.format(path: path, problem: "\(labels.count) labels for \(shape[0]) images")
        }
        if case .bytes(let bytes) = data {
            // A split small enough to arrive in memory (fewer than 22 images).
            var offset = 0
            streamed = try readImages(count: shape[0], stride: pixels, offset: 0, read: { buffer in
                bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: buffer.count) }
                offset += buffer.count
            }) { _, _ in }
        }
        guard let images = streamed, images.count == byteCount else {
            throw MLPError.format(path: path, problem: "pickle's image bytes are not those of its 'data' array")
        }
        return (images, labels)
    }

    static func readPickleNames(_ source: BoundedReader, key: String) throws -> [String] {
        let path = source.path
        guard source.remaining <= 1 << 20 else {
            throw MLPError.format(path: path, problem: "\(source.remaining) bytes is too large for a meta file")
        }
        var reader = PickleReader(source)
        let root = try reader.read()
        guard case .list(let items)? = reader.lookup(key, in: root) else {
            throw MLPError.format(path: path, problem: "meta has no '\(key)' list")
        }
        return try items.map { item in
            guard let name = reader.stringValue(item) else { throw MLPError.format(path: path, problem: "a class name is not a string") }
            return name
        }
    }

    /// One binary split: records of coarse label, fine label, then the red, green and blue planes.
    static func readBinarySplit(_ source: BoundedReader, labelMode: LabelMode) throws -> (images: [UInt8], labels: [Int32]) {
        let path = source.path, record = 2 + pixels
        guard source.remaining > 0, source.remaining % record == 0 else {
            throw MLPError.format(path: path, problem: "size \(source.remaining) is not a whole number of \(record)-byte records (wrong record size)")
        }
        let count = source.remaining / record
        let labelOffset = labelMode == .coarse ? 0 : 1
        var labels = [Int32](repeating: 0, count: count)
        let images = try readImages(count: count, stride: record, offset: 2, read: source.read(into:)) { index, header in
            let label = Int(header[labelOffset])
            guard label < labelMode.classCount else {
                throw MLPError.format(path: path, problem: "record \(index) has \(labelMode.rawValue) label \(label), outside 0..<\(labelMode.classCount)")
            }
            labels[index] = Int32(label)
        }
        return (images, labels)
    }

    /// Reads `count` records of `stride` bytes through `read`, a few hundred at a time, each
    /// holding an image's channel planes (3, 32, 32) at `offset`, and returns the images as
    /// (count, 32, 32, 3), as Keras's `transpose(0, 2, 3, 1)`. `header` sees each record's
    /// first `offset` bytes.
    static func readImages(count: Int, stride: Int, offset: Int, read: (UnsafeMutableRawBufferPointer) throws -> Void,
                           header: (_ index: Int, _ bytes: UnsafeRawBufferPointer) throws -> Void) throws -> [UInt8] {
        let chunk = 256
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * stride, alignment: 64)
        defer { scratch.deallocate() }
        return try [UInt8](unsafeUninitializedCapacity: count * pixels) { out, initialized in
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                try read(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(n * stride)]))
                for i in 0..<n {
                    let record = UnsafeRawBufferPointer(rebasing: scratch[(i * stride)..<((i + 1) * stride)])
                    try header(done + i, UnsafeRawBufferPointer(rebasing: record[0..<offset]))
                    channelsLast(record.baseAddress!.assumingMemoryBound(to: UInt8.self) + offset, out.baseAddress! + (done + i) * pixels)
                }
                done += n
            }
            initialized = count * pixels
        }
    }

    /// One image's planes (3, 32, 32) → (32, 32, 3).
    @inline(__always)
    static func channelsLast(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>) {
        for p in 0..<1024 {
            dst[p * 3] = src[p]
            dst[p * 3 + 1] = src[1024 + p]
            dst[p * 3 + 2] = src[2048 + p]
        }
    }
}
