import Foundation

/// Keras's MNIST (`keras.datasets.mnist.load_data()`): 60,000 + 10,000 handwritten digits of
/// 28×28, from Keras's `mnist.npz`, downloaded into Keras's cache by name with Keras's address
/// and checksum.
public enum MNIST: RegisteredDatasetSource {
    public static let title = "MNIST (--data mnist, or Keras's mnist.npz)"
    public static let names = ["mnist"]
    public static let hubDataset: String? = "ylecun/mnist"
    /// Keras's address and SHA-256 of the archive.
    public static let url = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    public static let sha256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

    /// Read by `NumPyArchive` when given by path.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool { false }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        try NumPyArchive.load(path: path, name: "mnist", request: request)
    }

    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        let path = try Download.cached("mnist.npz", url: request.downloadURL ?? url, checksum: .sha256(sha256), log: log)
        return try load(path: path, request: request)
    }
}
