import Foundation

/// Which labels to read: the 100 fine classes or the 20 coarse superclasses.
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
public enum CIFAR100 {
    public static let imageShape = [32, 32, 3]
    static let pixels = 3072
    static let trainCount = 50_000
    static let testCount = 10_000

    /// Loads from an archive or a folder in either official layout.
    /// With `includeTrain` false, for evaluation, only the holdout split and the class names are
    /// read: an archive is read only as far as they lie, and no checksum is computed.
    public static func load(path: String, labelMode: LabelMode = .fine, includeTrain: Bool = true) throws -> DatasetPair {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw MLPError.io(path: path, problem: "no such file or folder")
        }
        var parts = Parts(includeTrain: includeTrain)
        var checksum = ""
        if isFolder.boolValue {
            let folder = try datasetFolder(in: path)
            var digest = [String]()
            for name in ["meta", "fine_label_names.txt", "coarse_label_names.txt", "train", "test", "train.bin", "test.bin"] {
                let file = folder + "/" + name
                guard FileManager.default.fileExists(atPath: file), parts.wants(name) else { continue }
                let reader = try CompressedFileReader(path: file)
                let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
                let bytes = try reader.read(count: size)
                if includeTrain {
                    try reader.hashRemainder()
                    digest.append("\(name):\(reader.sha256)")
                }
                try parts.add(name: name, bytes: bytes, path: file, labelMode: labelMode)
            }
            checksum = digest.joined(separator: " ")
        } else {
            let reader = try CompressedFileReader(path: path)
            var tar = TarReader(reader)
            while let entry = try tar.next() {
                guard entry.type == "0" || entry.type == "7" else { continue }
                let name = entry.name.split(separator: "/").last.map(String.init) ?? entry.name
                guard parts.wants(name) else { continue }
                try parts.add(name: name, bytes: try tar.readEntry(), path: "\(path) (\(entry.name))", labelMode: labelMode)
                if !includeTrain, parts.test != nil, parts.names != nil { break }
            }
            if includeTrain {
                try reader.hashRemainder()
                checksum = reader.sha256
            }
        }
        return try parts.finish(path: path, checksum: checksum, labelMode: labelMode)
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
                guard entry.type == "0" || entry.type == "7", Parts.wanted.contains(name) else { continue }
                let target = temporary + "/" + name
                guard FileManager.default.createFile(atPath: target, contents: Data(try tar.readEntry())) else {
                    throw MLPError.io(path: target, problem: "cannot write file")
                }
            }
            guard rename(temporary, folder) == 0 else {
                throw MLPError.io(path: folder, problem: "cannot create folder: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// The folder holding the files: `path` itself or a `cifar-100-python` / `cifar-100-binary`
    /// folder inside it.
    static func datasetFolder(in path: String) throws -> String {
        let fm = FileManager.default
        for candidate in [path, path + "/cifar-100-python", path + "/cifar-100-binary"] {
            if fm.fileExists(atPath: candidate + "/train") || fm.fileExists(atPath: candidate + "/train.bin") {
                return candidate
            }
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
        var includeTrain = true

        func wants(_ name: String) -> Bool { Self.wanted.contains(name) && (includeTrain || !name.hasPrefix("train")) }

        mutating func add(name: String, bytes: [UInt8], path: String, labelMode: LabelMode) throws {
            guard wants(name) else { return }
            switch name {
            case "train": train = try readPickleSplit(bytes, path: path, labelMode: labelMode)
            case "test": test = try readPickleSplit(bytes, path: path, labelMode: labelMode)
            case "meta": names = try readPickleNames(bytes, path: path, labelMode: labelMode)
            case "train.bin":
                layout = "binary"
                train = try readBinarySplit(bytes, path: path, labelMode: labelMode)
            case "test.bin":
                layout = "binary"
                test = try readBinarySplit(bytes, path: path, labelMode: labelMode)
            case "\(labelMode.namesKey).txt":
                names = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            default: break
            }
        }

        func finish(path: String, checksum: String, labelMode: LabelMode) throws -> DatasetPair {
            let train = includeTrain ? train : ([], [])
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

    /// One Python split: a dict with `data` (a (n, 3072) uint8 array) and label lists.
    static func readPickleSplit(_ bytes: [UInt8], path: String, labelMode: LabelMode) throws
        -> (images: [UInt8], labels: [Int32])
    {
        var reader = PickleReader(bytes: bytes, path: path)
        let root = try reader.read()
        guard case .array(let shape, let dtype, let data)? = reader.lookup("data", in: root) else {
            throw MLPError.format(path: path, problem: "pickle has no numpy array under 'data'")
        }
        guard dtype == "u1" || dtype == "|u1", shape.count == 2, shape[1] == pixels, data.count == shape[0] * pixels else {
            throw MLPError.format(path: path, problem: "'data' is a \(dtype) array of shape \(shape), expected uint8 (n, 3072)")
        }
        guard case .list(let items)? = reader.lookup(labelMode.pickleKey, in: root) else {
            throw MLPError.format(path: path, problem: "pickle has no '\(labelMode.pickleKey)' list")
        }
        let labels = try items.map { item -> Int32 in
            guard case .int(let value) = item, (0..<labelMode.classCount).contains(value) else {
                throw MLPError.format(path: path, problem: "'\(labelMode.pickleKey)' holds a value outside 0..<\(labelMode.classCount)")
            }
            return Int32(value)
        }
        guard labels.count == shape[0] else {
            throw MLPError.format(path: path, problem: "\(labels.count) labels for \(shape[0]) images")
        }
        let images = bytes.withUnsafeBufferPointer { channelsLast(UnsafeBufferPointer(rebasing: $0[data]), count: shape[0], stride: pixels, offset: 0) }
        return (images, labels)
    }

    static func readPickleNames(_ bytes: [UInt8], path: String, labelMode: LabelMode) throws -> [String] {
        var reader = PickleReader(bytes: bytes, path: path)
        let root = try reader.read()
        guard case .list(let items)? = reader.lookup(labelMode.namesKey, in: root) else {
            throw MLPError.format(path: path, problem: "meta has no '\(labelMode.namesKey)' list")
        }
        return try items.map { item in
            guard let name = reader.stringValue(item) else { throw MLPError.format(path: path, problem: "a class name is not a string") }
            return name
        }
    }

    /// One binary split: records of coarse label, fine label, then the red, green and blue planes.
    static func readBinarySplit(_ bytes: [UInt8], path: String, labelMode: LabelMode) throws -> (images: [UInt8], labels: [Int32]) {
        let record = 2 + pixels
        guard !bytes.isEmpty, bytes.count % record == 0 else {
            throw MLPError.format(path: path, problem: "size \(bytes.count) is not a whole number of \(record)-byte records (wrong record size)")
        }
        let count = bytes.count / record
        let labelOffset = labelMode == .coarse ? 0 : 1
        var labels = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            let label = Int(bytes[i * record + labelOffset])
            guard label < labelMode.classCount else {
                throw MLPError.format(path: path, problem: "record \(i) has \(labelMode.rawValue) label \(label), outside 0..<\(labelMode.classCount)")
            }
            labels[i] = Int32(label)
        }
        let images = bytes.withUnsafeBufferPointer { channelsLast($0, count: count, stride: record, offset: 2) }
        return (images, labels)
    }

    /// (count, 3, 32, 32) planes → (count, 32, 32, 3), as Keras's `transpose(0, 2, 3, 1)`.
    static func channelsLast(_ source: UnsafeBufferPointer<UInt8>, count: Int, stride: Int, offset: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count * pixels) { out, initialized in
            for n in 0..<count {
                let src = source.baseAddress! + n * stride + offset
                let dst = out.baseAddress! + n * pixels
                for p in 0..<1024 {
                    dst[p * 3] = src[p]
                    dst[p * 3 + 1] = src[1024 + p]
                    dst[p * 3 + 2] = src[2048 + p]
                }
            }
            initialized = count * pixels
        }
    }
}
