import Foundation

/// The formats an output's name may ask for: its extension decides the format, and a name
/// whose format is not written here is refused before any work starts.
public enum OutputName {
    /// Keras CSVLogger's format, or JSON.
    public static let history = [".csv", ".json"]
    public static let chart = [".svg"]
    public static let csv = [".csv"]
    public static let npy = [".npy"]
    public static let onnx = [".onnx"]
    public static let markdown = [".md"]

    /// Refuses `path` unless its extension is one of `formats` and its folder takes a new file
    /// (the temporary one it is written through).
    ///
    /// - Parameters:
    ///   - flag: the option that named the file, without its dashes ("output" for -o).
    public static func check(_ path: String, flag: String, formats: [String]) throws {
        try AtomicFile.temporaryPath(for: path)
        let lower = path.lowercased()
        guard !formats.contains(where: { lower.hasSuffix($0) }) else { return }
        let written = formats.joined(separator: " or ")
        let ext = URL(fileURLWithPath: path).pathExtension
        let problem: String
        switch ext.lowercased() {
        case "":
            problem = "\(path) has no extension; name the file \(written)"
        default:
            problem = "\(path): .\(ext) is not a format written here; name the file \(written)"
        }
        throw MLPError.setting(flag, problem: problem)
    }
}
