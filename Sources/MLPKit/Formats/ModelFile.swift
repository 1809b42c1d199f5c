import Foundation

/// A model read from, or to be written to, a model file (`.h5` or `.keras`), with what the file says about it.
public struct SavedModel {
    /// The model with its weights.
    public var model: Sequential
    /// The optimizer named by `training_config`, with its state when the file carries it.
    public var optimizer: Optimizer?
    /// The `keras_version` and `backend` the file records (its writer's).
    public var kerasVersion: String?
    public var backend: String?
    /// `training_config` as JSON (`loss`, `metrics`, `optimizer_config`), when the model was
    /// compiled; a `.keras` file's `compile_config` is read into the same shape.
    public var trainingConfig: [String: Any]?
    /// Whether the optimizer's saved state was present and restored.
    public var optimizerStateRestored = false
    /// What this toolchain recorded about how the model was made (empty for Keras's files).
    public var provenance: [String: String] = [:]
    /// Things a user should know that did not stop the load, such as optimizer state skipped.
    public var warnings: [String] = []

    public init(model: Sequential, optimizer: Optimizer? = nil, provenance: [String: String] = [:]) {
        self.model = model
        self.optimizer = optimizer
        self.provenance = provenance
    }

    /// The loss the file's training config names.
    public var loss: String? { trainingConfig?["loss"] as? String }
}

/// The one way in for model files: whatever saved model a path holds, told apart by its bytes
/// (Keras's HDF5 `.h5`, or the `.keras` zip), and saved in the format its name asks for.
public enum ModelFile {
    /// The model file formats, by what their bytes start with.
    public enum Format: String, CaseIterable, Sendable {
        /// Keras's legacy HDF5 layout (`model.save("m.h5")`).
        case h5
        /// Keras 3's native zip (`model.save("m.keras")`).
        case keras

        /// The format a file's name asks for when it is written: `.keras`, else `.h5`.
        public init(forName path: String) {
            self = path.lowercased().hasSuffix(".keras") ? .keras : .h5
        }
    }

    /// The format of the file at `path`, from its first bytes; refused in one line when it is
    /// not a model file (with what it looks like instead, when that is plain).
    public static func format(ofFileAt path: String) throws -> Format {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw MLPError.io(path: path, problem: "no such file") }
        if isFolder.boolValue { throw MLPError.io(path: path, problem: "is a folder, not a model file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MLPError.io(path: path, problem: "cannot read file") }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .keras }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46]) { return .h5 }
        // HDF5 allows a user block before its signature; libhdf5 finds it there.
        if HDF5.locked({ H5Group.isHDF5(path: path) }) { return .h5 }
        let text = head.first.map { $0 == UInt8(ascii: "{") } ?? false
        if head.first == 0x08, let data = FileManager.default.contents(atPath: path), ONNXFile.looksLikeONNX(data) {
            throw MLPError.format(path: path, problem: "is an ONNX model (mlp-export's output, for ONNX Runtime); this reads .keras and .h5 models")
        }
        throw MLPError.format(path: path, problem: head.isEmpty ? "empty file, not a model"
            : text ? "is JSON, not a saved model (a model config goes to --model)"
            : "not a model file: neither Keras's HDF5 (.h5) nor a .keras zip")
    }

    /// Reads the model at `path`, whichever format its bytes say it is.
    public static func load(path: String) throws -> SavedModel {
        switch try format(ofFileAt: path) {
        case .h5:
            return try KerasH5.load(path: path)
        case .keras:
            guard let data = FileManager.default.contents(atPath: path) else { throw MLPError.io(path: path, problem: "cannot read file") }
            return try KerasNative.load(data: data, path: path)
        }
    }

    /// Writes `saved` atomically in the format `path`'s name asks for (`.keras`, else `.h5`).
    public static func save(_ saved: SavedModel, to path: String) throws {
        switch Format(forName: path) {
        case .h5: try KerasH5.save(saved, to: path)
        case .keras: try KerasNative.save(saved, to: path)
        }
    }
}
