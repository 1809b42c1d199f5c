import Foundation

/// Arrays saved with `np.savez`: `x_train`, `y_train`, `x_test`, `y_test`, read as
/// `np.load(allow_pickle=False)` reads them. Images are uint8 arrays of (n, height, width) or
/// (n, height, width, channels), scaled by 1/255 when used; features are float arrays of
/// (n, ...), used as they are. Labels are integers of shape (n,) or (n, 1), from 0; the classes
/// are 0 to the largest label, named by their numbers.
public enum NumPyArchive: RegisteredDatasetSource {
    public static let title = "an .npz of x_train, y_train, x_test and y_test (np.savez)"
    /// Read by path only.
    public static let names: [String] = []

    /// A zip archive that holds `x_train.npy`.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool {
        guard !isFolder, head.starts(with: [0x50, 0x4B, 0x03, 0x04]) else { return false }
        return path.lowercased().hasSuffix(".npz") || (try? ZipArchive.Reader(data: fileBytes(atPath: path), path: path))?
            .entry("x_train.npy") != nil
    }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        try load(path: path, name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + " (npz)", request: request)
    }

    /// An archive not named by `--data` (Keras's downloads name it): read as any other.
    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        throw MLPError.usage("\(name) is read from a path")
    }

    /// The archive at `path`, its dataset called `name`.
    static func load(path: String, name: String, request: DataRequest) throws -> DatasetPair {
        let data = try fileBytes(atPath: path)
        let archive = try ZipArchive.Reader(data: data, path: path)
        func array(_ key: String) throws -> NPY.Array? {
            let member = key + ".npy"
            guard let entry = archive.entry(member) else { return nil }
            return try NPY.decode(try archive.read(member, limit: min(entry.size, 1 << 34)), path: "\(path) (\(member))")
        }
        func required(_ key: String) throws -> NPY.Array {
            guard let found = try array(key) else { throw MLPError.format(path: path, problem: "the .npz has no \(key)") }
            return found
        }
        let splits = [(request.splits.train, "train"), (request.splits.test, "test")]
        var loaded: [String: (x: NPY.Array, y: [Int])] = [:]
        for (wanted, split) in splits where wanted {
            let x = try required("x_" + split), y = try required("y_" + split)
            guard let labels = y.integers, y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
                throw MLPError.format(path: path, problem: "y_\(split) is not integer labels of shape (n,) or (n, 1) (it is \(y.descr) \(y.shape))")
            }
            guard x.shape.count >= 2, x.shape[0] == labels.count else {
                throw MLPError.format(path: path, problem: "x_\(split) holds \(x.shape.first ?? 0) samples of shape \(x.shape.dropFirst().map { $0 }), y_\(split) \(labels.count) labels")
            }
            loaded[split] = (x, labels)
        }
        let shapes = Set(loaded.values.map { Array($0.x.shape.dropFirst()) })
        guard shapes.count <= 1 else { throw MLPError.format(path: path, problem: "x_train and x_test hold samples of shapes \(shapes.sorted { "\($0)" < "\($1)" })") }
        let sampleShape = shapes.first ?? []
        if let negative = loaded.flatMap({ split in split.value.y.filter { $0 < 0 }.map { (split.key, $0) } }).first {
            throw MLPError.format(path: path, problem: "y_\(negative.0) holds the label \(negative.1); labels are class numbers from 0")
        }
        let classes = (loaded.values.flatMap(\.y).max() ?? 0) + 1
        guard classes <= 1_000_000 else { throw MLPError.format(path: path, problem: "labels up to \(classes - 1): too many classes") }
        let names = (0..<classes).map(String.init)
        func dataset(_ split: String) throws -> ImageDataset {
            guard let (x, y) = loaded[split] else {
                return ImageDataset(images: [], labels: [], shape: sampleShape, classNames: names)
            }
            let labels = y.map { Int32($0) }
            if let bytes = x.uint8s { return ImageDataset(images: bytes, labels: labels, shape: sampleShape, classNames: names) }
            guard x.descr.contains("f"), let floats = x.floats else {
                throw MLPError.format(path: path, problem: "x_\(split) holds \(x.descr) values: images are uint8, features float32 or float64")
            }
            return ImageDataset(features: floats, labels: labels, shape: sampleShape, classNames: names)
        }
        let digest = Digest(.sha256)
        data.withUnsafeBytes { digest.update($0) }
        return DatasetPair(train: try dataset("train"), test: try dataset("test"), name: name, source: path, checksum: digest.hex)
    }
}
