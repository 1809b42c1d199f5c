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

    /// Creates the folder `path` and any missing parents; a failure names the folder and the
    /// reason ("Read-only file system", "No space left on device").
    public static func makeFolder(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var status = stat()
            if stat(prefix, &status) == 0 { continue }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw MLPError.io(path: path, problem: "cannot create the folder (\(String(cString: strerror(errno))))")
            }
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw MLPError.io(path: path, problem: "cannot create the folder: a file has its name")
        }
    }

    /// Writes `data` to `path` atomically, through a temporary file that is written whole and
    /// synced before it takes the name; a full or read-only disk is one error naming the file
    /// and the reason, and the previous file stays as it was.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            func fail(_ what: String) -> MLPError { .io(path: path, problem: "cannot \(what) (\(String(cString: strerror(errno))))") }
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw fail("create the file") }
            var closed = false
            defer { if !closed { close(descriptor) } }
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { throw fail("write the file") }
                    offset += written
                }
            }
            guard fsync(descriptor) == 0 else { throw fail("write the file") }
            closed = true
            guard close(descriptor) == 0 else { throw fail("write the file") }
        }
    }
}
