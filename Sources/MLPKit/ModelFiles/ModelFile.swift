import Foundation

/// A model as a file holds it, or as it is about to be written: the model with its weights,
/// the optimizer it was compiled with (and that optimizer's state), and what the file records.
public struct CompiledModel {
    /// The model with its weights.
    public var model: Sequential
    /// The optimizer named by `training_config`, with its state when the file carries it.
    public var optimizer: Optimizer?
    /// The `keras_version` and `backend` the file records (its writer's).
    public var kerasVersion: String?
    public var backend: String?
    /// `training_config` as JSON (`loss`, `metrics`, `optimizer_config`), when the model was
    /// compiled; a `.keras` file's `compile_config` is read into the same shape.
    public var trainingConfig: [String: JSONValue]?
    /// Whether the optimizer's saved state was present and restored.
    public var optimizerStateRestored = false
    /// What this toolchain recorded about how the model was made (empty for Keras's files).
    public var record = RunRecord()
    /// Things a user should know that did not stop the load, such as optimizer state skipped.
    public var warnings: [String] = []
    /// The SHA-256 of the file it was read from (nil for a model not read from a file), which
    /// an evaluation records so that what quotes it can tell which model it scored.
    public var fileSHA256: String?
    /// For an ONNX file another tool wrote: its `producer_name` and `producer_version`.
    public var producer: String?

    public init(model: Sequential, optimizer: Optimizer? = nil, record: RunRecord = RunRecord()) {
        self.model = model
        self.optimizer = optimizer
        self.record = record
    }

    /// The tool that wrote the file: "mlp-train, mlp 0.1.0", "mlp-eval --temperature-scale, mlp
    /// 0.1.0"; for a file this toolchain did not write, "Keras 3.5.0".
    public var writer: String {
        guard let version = record.version else { return producer ?? "Keras \(kerasVersion ?? "(version not recorded)")" }
        let tool = record.calibratedFrom != nil ? "mlp-eval --temperature-scale"
            : record.command.flatMap { $0.split(separator: " ").first.map { String($0.split(separator: "/").last ?? $0) } } ?? "mlp"
        return "\(tool), mlp \(version)"
    }

    /// Who wrote the file and in which format: "mlp-train, mlp 0.1.0; in Keras 3.15.1's file
    /// format"; "Keras 3.5.0 (backend jax)".
    public var provenanceLine: String {
        guard record.version != nil else { return writer + (backend.map { " (backend \($0))" } ?? "") }
        return writer + (kerasVersion.map { "; in Keras \($0)'s file format" } ?? "")
    }

    /// The loss the file's training config names.
    public var loss: String? { trainingConfig?["loss"]?.string }
}

/// A model file format: told apart from the others by its bytes alone, read from them and,
/// where this toolchain writes it, written. A new format is one file with a type conforming
/// here; `ModelFormats` finds it.
public protocol RegisteredModelFormat {
    /// The format's name, as `--save-format` takes it: "h5".
    static var name: String { get }
    /// How messages name it: "Keras's HDF5 (.h5)".
    static var title: String { get }
    /// The endings of file names (lowercase, with the dot) that ask for this format when a
    /// model is written; empty for a format this toolchain does not write as a model.
    static var extensions: [String] { get }
    /// Whether `bytes`, a whole file, are in this format.
    static func recognizes(_ bytes: Data) -> Bool
    /// The model and what the file records; `path` names the file in errors.
    static func load(_ bytes: Data, path: String) throws -> CompiledModel
    /// The file's model config with its `compile_config` (a `.keras` file's `config.json`
    /// shape), its weights not read.
    static func configObject(_ bytes: Data, path: String) throws -> [String: JSONValue]
    /// Writes `model`, atomically.
    static func save(_ model: CompiledModel, to path: String) throws
}

/// The model file formats, found at build time from the types conforming to
/// `RegisteredModelFormat`, and the one place that tells them apart.
public enum ModelFormats {
    /// Every format, by name.
    public static var all: [any RegisteredModelFormat.Type] { registered.sorted { $0.name < $1.name } }

    /// The formats a model can be written in.
    public static var writable: [any RegisteredModelFormat.Type] { all.filter { !$0.extensions.isEmpty } }

    /// The format called `name`, if there is one.
    public static func named(_ name: String) -> (any RegisteredModelFormat.Type)? { all.first { $0.name == name } }

    /// The format a written file's name asks for: by its ending, else Keras's HDF5 (`.h5`).
    public static func forOutput(_ path: String) -> any RegisteredModelFormat.Type {
        let lowered = path.lowercased()
        return writable.first { $0.extensions.contains { lowered.hasSuffix($0) } } ?? KerasH5.self
    }

    /// The endings every writable format takes, for messages: ".h5, .hdf5, .keras".
    public static var writableExtensions: [String] { writable.flatMap { $0.extensions } }

    /// The format of a file's bytes; refused in one line when no format has them, saying what
    /// they look like instead where that is plain.
    public static func identify(_ bytes: Data, path: String) throws -> any RegisteredModelFormat.Type {
        if let format = all.first(where: { $0.recognizes(bytes) }) { return format }
        if bytes.isEmpty { throw MLPError.format(path: path, problem: "empty file, not a model") }
        if bytes.first == UInt8(ascii: "{") {
            throw MLPError.format(path: path, problem: "is JSON, not a saved model (a model config goes to --model)")
        }
        throw MLPError.format(path: path, problem: "not a model file: none of " + all.map { $0.title }.joined(separator: ", "))
    }
}

/// The one way in for model files: whatever saved model a path holds, read once and told
/// apart by its bytes, and saved in the format its name asks for.
public enum ModelFile {
    /// The whole file at `path`, read once; a folder, a missing or an unreadable file is one line.
    public static func bytes(atPath path: String) throws -> Data { try fileBytes(atPath: path, what: "a model file") }

    /// The format of the file at `path`, from its bytes.
    public static func format(ofFileAt path: String) throws -> any RegisteredModelFormat.Type {
        try ModelFormats.identify(try bytes(atPath: path), path: path)
    }

    /// Reads the model at `path`, whichever format its bytes say it is.
    public static func load(path: String) throws -> CompiledModel { try load(try bytes(atPath: path), path: path) }

    /// Reads a model from a file's bytes; `path` names it in errors.
    public static func load(_ bytes: Data, path: String) throws -> CompiledModel {
        var model = try ModelFormats.identify(bytes, path: path).load(bytes, path: path)
        model.fileSHA256 = Digest.sha256(of: bytes)
        return model
    }

    /// Writes `model` atomically in the format `path`'s name asks for (`.keras`, else `.h5`).
    public static func save(_ model: CompiledModel, to path: String) throws {
        try ModelFormats.forOutput(path).save(model, to: path)
    }
}
