import Foundation
import MLPKit

/// Reads a model file in a child process before this process reads it, so that a file whose
/// HDF5 structure is damaged in a way that makes libhdf5 itself crash or loop (a corrupt
/// global heap does both) costs the child, not the command: the command reports one line and
/// exits with status 1.
///
/// The child is this same executable, run as `TOOL __mlp-probe-model FILE` (see
/// `mainReportingOneLine`); it reads the whole model and exits 0, or prints the error and
/// exits 1.
public enum ModelProbe {
    static let argument = "__mlp-probe-model"

    /// Reads `path` as `ModelFile.load` does, first in a child process with a time limit.
    public static func load(_ path: String) throws -> CompiledModel {
        try probe(path)
        return try ModelFile.load(path: path)
    }

    /// Checks that a child process reads `path` without crashing or hanging; rethrows its error.
    public static func probe(_ path: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw MLPError.io(path: path, problem: "no such file") }
        if isFolder.boolValue { throw MLPError.io(path: path, problem: "is a folder, not a model file") }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
        // A model file loads in milliseconds; seconds mean libhdf5 is going round in circles.
        let limit = 3 + Double(bytes) / 20_000_000
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { unlink(errorFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let words: [String] = [executable, argument, path]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The child's own crash report would only repeat what this process says in one line.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        // It multiplies no matrices: spare it OpenBLAS's thread pool, which costs more to start than the read.
        environment["OPENBLAS_NUM_THREADS"] = "1"
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawn(&pid, executable, &actions, nil, argv, envp) == 0 else {
            return  // No child to spare: read the file in this process.
        }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(limit)
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { return }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw MLPError.format(path: path, problem: "libhdf5 did not finish reading the file within \(Int(limit)) s: its HDF5 structure is damaged")
            }
            usleep(2_000)
        }
        let exited = status & 0x7F == 0, code = (status >> 8) & 0xFF
        if exited && code == 0 { return }
        if exited, code == 1, let message = FileManager.default.contents(atPath: errorFile).map({ String(decoding: $0, as: UTF8.self) }),
           let line = message.split(separator: "\n").first.map(String.init), !line.isEmpty {
            throw ProbeError(message: line)
        }
        throw MLPError.format(path: path, problem: exited
            ? "reading the file failed (status \(code)): its HDF5 structure is damaged"
            : "libhdf5 crashed reading the file (signal \(status & 0x7F)): its HDF5 structure is damaged")
    }

    /// The child's side: reads the model and reports.
    static func runChild(_ path: String) -> Never {
        do {
            _ = try ModelFile.load(path: path)
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            exit(1)
        }
    }
}

/// The child's error, passed on word for word.
struct ProbeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
