import Foundation

/// Keras's CIFAR-10 (`keras.datasets.cifar10.load_data()`): 50,000 + 10,000 images of 32×32×3
/// in 10 classes, from the official `cifar-10-python.tar.gz` (`data_batch_1` to `_5`,
/// `test_batch`, `batches.meta`) or its extracted folder, read as Keras reads it: the five
/// training batches in order, channels last, the class names from `batches.meta`.
public enum CIFAR10: RegisteredDatasetSource {
    public static let title = "CIFAR-10 (--data cifar10, cifar-10-python.tar.gz or its folder)"
    public static let names = ["cifar10"]
    public static let hubDataset: String? = "uoft-cs/cifar10"
    /// Keras's address and SHA-256 of the archive.
    public static let url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    public static let sha256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    static let trainBatches = (1...5).map { "data_batch_\($0)" }

    /// Its folder (`cifar-10-batches-py` or one holding it), or an archive whose first member
    /// sits in `cifar-10-batches-py`.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool {
        if isFolder { return folder(in: path) != nil }
        // A gzip of a tar: the first member's name is in the first inflated block, not in `head`.
        guard head.starts(with: [0x1F, 0x8B]), let reader = try? CompressedFileReader(path: path, hashing: false) else { return false }
        var tar = TarReader(reader)
        return (try? tar.next())?.name.hasPrefix("cifar-10-batches-py") == true
    }

    static func folder(in path: String) -> String? {
        [path, path + "/cifar-10-batches-py"].first { FileManager.default.fileExists(atPath: $0 + "/data_batch_1") }
    }

    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        let path = try Download.cached("cifar-10-python.tar.gz", url: request.downloadURL ?? url, checksum: .sha256(sha256), log: log)
        return try load(path: path, request: request)
    }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        var splits: [String: (images: [UInt8], labels: [Int32])] = [:]
        var names: [String]?
        let wanted = Set((request.splits.train ? trainBatches : []) + (request.splits.test ? ["test_batch"] : []) + ["batches.meta"])
        func add(_ name: String, _ source: BoundedReader) throws {
            if name == "batches.meta" { names = try CIFAR100.readPickleNames(source, key: "label_names") }
            else { splits[name] = try CIFAR100.readPickleSplit(source, labelKey: "labels", classes: 10) }
        }
        var checksum: String
        if let folder = folder(in: path) {
            var digest: [String] = []
            for name in wanted.sorted() {
                let file = folder + "/" + name
                guard FileManager.default.fileExists(atPath: file) else { continue }
                let reader = try CompressedFileReader(path: file, hashing: true, inflating: false)
                try add(name, BoundedReader(reader, count: reader.fileSize))
                try reader.hashRemainder()
                digest.append("\(name):\(reader.sha256 ?? "")")
            }
            checksum = digest.joined(separator: " ")
        } else {
            let reader = try CompressedFileReader(path: path, hashing: true)
            var tar = TarReader(reader)
            while let entry = try tar.next() {
                let name = entry.name.split(separator: "/").last.map(String.init) ?? entry.name
                guard entry.type == "0" || entry.type == "7", wanted.contains(name), let member = tar.member else { continue }
                try add(name, member)
            }
            try reader.hashRemainder()
            checksum = reader.sha256 ?? ""
        }
        let missing = wanted.filter { splits[$0] == nil && $0 != "batches.meta" }.sorted()
        guard missing.isEmpty else { throw MLPError.format(path: path, problem: "no CIFAR-10 \(missing.joined(separator: ", ")) found") }
        let classNames = names ?? (0..<10).map(String.init)
        guard classNames.count == 10 else { throw MLPError.format(path: path, problem: "\(classNames.count) class names, expected 10") }
        func joined(_ batches: [String]) -> ImageDataset {
            let parts = batches.compactMap { splits[$0] }
            return ImageDataset(images: parts.flatMap(\.images), labels: parts.flatMap(\.labels), shape: CIFAR100.imageShape,
                                classNames: classNames)
        }
        return DatasetPair(train: joined(request.splits.train ? trainBatches : []), test: joined(request.splits.test ? ["test_batch"] : []),
                           name: "cifar10", source: path, checksum: checksum)
    }
}
