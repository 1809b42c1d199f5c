import Foundation

/// Keras's Fashion-MNIST (`keras.datasets.fashion_mnist.load_data()`): 60,000 + 10,000
/// clothing images of 28×28 in 10 classes, from the four gzipped IDX files Keras downloads
/// (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-...`) in one folder, read
/// as Keras reads them.
public enum FashionMNIST: RegisteredDatasetSource {
    public static let title = "Fashion-MNIST (--data fashion_mnist, or a folder of its four IDX .gz files)"
    public static let names = ["fashion_mnist"]
    public static let hubDataset: String? = "zalando-datasets/fashion_mnist"
    /// Keras's address of the four files.
    public static let base = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    static let files = (train: (images: "train-images-idx3-ubyte.gz", labels: "train-labels-idx1-ubyte.gz"),
                        test: (images: "t10k-images-idx3-ubyte.gz", labels: "t10k-labels-idx1-ubyte.gz"))
    /// The names Keras's documentation gives the ten classes.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool {
        isFolder && FileManager.default.fileExists(atPath: path + "/" + files.train.images)
    }

    /// Keras downloads the files with no checksum; they are read into Keras's cache folder
    /// `fashion-mnist`, and each file's IDX header is checked when it is read.
    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        let folder = DatasetSources.kerasDatasetsFolder + "/fashion-mnist"
        for file in [files.train.images, files.train.labels, files.test.images, files.test.labels]
        where !FileManager.default.fileExists(atPath: folder + "/" + file) {
            _ = try Download.cached("fashion-mnist/" + file, url: (request.downloadURL ?? base) + file, checksum: nil, log: log)
        }
        return try load(path: folder, request: request)
    }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        var digests: [String] = []
        func read(_ file: String, dimensions: Int) throws -> (shape: [Int], bytes: [UInt8]) {
            let full = path + "/" + file
            let reader = try CompressedFileReader(path: full, hashing: true)
            let header = try reader.read(count: 4 + 4 * dimensions)
            // IDX: two zero bytes, the type (0x08: unsigned bytes), the number of dimensions, then each size (big-endian).
            guard header[0] == 0, header[1] == 0, header[2] == 0x08, Int(header[3]) == dimensions else {
                throw MLPError.format(path: full, problem: "not an IDX file of unsigned bytes with \(dimensions) dimensions")
            }
            let shape = (0..<dimensions).map { d in (0..<4).reduce(0) { $0 << 8 | Int(header[4 + 4 * d + $1]) } }
            let count = shape.reduce(1, *)
            guard shape.allSatisfy({ $0 > 0 }), count <= 1 << 31 else { throw MLPError.format(path: full, problem: "an IDX shape of \(shape)") }
            let bytes = try reader.read(count: count)
            try reader.hashRemainder()
            digests.append("\(file):\(reader.sha256 ?? "")")
            return (shape, bytes)
        }
        func split(_ names: (images: String, labels: String)) throws -> ImageDataset {
            let images = try read(names.images, dimensions: 3), labels = try read(names.labels, dimensions: 1)
            guard images.shape[0] == labels.shape[0] else {
                throw MLPError.format(path: path + "/" + names.images, problem: "\(images.shape[0]) images for \(labels.shape[0]) labels")
            }
            guard let high = labels.bytes.max(), high < 10 else {
                throw MLPError.format(path: path + "/" + names.labels, problem: "a label outside 0 to 9")
            }
            return ImageDataset(images: images.bytes, labels: labels.bytes.map { Int32($0) }, shape: Array(images.shape.dropFirst()),
                                classNames: classNames)
        }
        let empty = ImageDataset(images: [], labels: [], shape: [28, 28], classNames: classNames)
        let train = request.splits.train ? try split(files.train) : empty
        let test = request.splits.test ? try split(files.test) : empty
        return DatasetPair(train: train, test: test, name: "fashion_mnist", source: path, checksum: digests.joined(separator: " "))
    }
}
