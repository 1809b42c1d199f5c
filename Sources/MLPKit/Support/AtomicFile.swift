import Foundation

/// Writes a file so that no failure leaves a half-written file where a good one stood: the
/// content goes to a temporary file in the same folder, which is renamed over the target only
/// once complete.
public enum AtomicFile {
    /// Calls `write` with a temporary path beside `path`, then renames it to `path`.
    public static func write(to path: String, _ write: (_ temporaryPath: String) throws -> Void) throws {
        let temporary = try temporaryPath(for: path)
        do {
            try write(temporary)
            guard rename(temporary, path) == 0 else {
                throw MLPError.io(path: path, problem: "cannot replace file: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Checks that `path` can be written (its folder exists and is writable, it is not a folder)
    /// and returns a fresh temporary path beside it.
    @discardableResult
    public static func temporaryPath(for path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw MLPError.io(path: path, problem: "folder \(folder) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw MLPError.io(path: path, problem: "is a folder")
        }
        guard access(folder, W_OK) == 0 else { throw MLPError.io(path: path, problem: "folder \(folder) is not writable") }
        removeAbandonedTemporaries(in: folder, for: url.lastPathComponent)
        return folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Removes the temporary files of `name` that processes killed while writing left behind
    /// (their names carry the writer's process id, and no such process runs any more).
    static func removeAbandonedTemporaries(in folder: String, for name: String) {
        let prefix = "." + name + ".tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix(prefix) {
            guard let pid = entry.dropFirst(prefix.count).split(separator: "-").first.flatMap({ pid_t($0) }), pid != getpid(),
                  kill(pid, 0) == -1, errno == ESRCH else { continue }
            unlink(folder + "/" + entry)
        }
    }

    /// Writes `data` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw MLPError.io(path: path, problem: "cannot write file")
            }
        }
    }
}
