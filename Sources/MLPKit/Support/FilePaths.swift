import Foundation

/// Paths as records keep them: absolute, so that a later step finds the file from any folder,
/// and relative to a record's own folder, so that it still finds it when both were moved.
public enum FilePaths {
    /// `path` made absolute against the working folder, with `.` and `..` resolved (symbolic
    /// links kept); with `folderOnly`, the folder that holds it.
    public static func absolute(_ path: String, folderOnly: Bool = false) -> String {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if folderOnly { url.deleteLastPathComponent() }
        let text = url.path
        return text.count > 1 && text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// The path that leads from the absolute folder `folder` to the absolute path `path`:
    /// "../data/g.npz".
    public static func relative(_ path: String, from folder: String) -> String {
        let target = path.split(separator: "/", omittingEmptySubsequences: true)
        let base = folder.split(separator: "/", omittingEmptySubsequences: true)
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// `path` read from `folder` when it is relative; itself when absolute.
    public static func resolve(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") ? path : absolute(folder + "/" + path)
    }
}
