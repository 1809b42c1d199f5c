import Foundation
import Testing
@testable import MLPKit

/// The package's root folder, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func fixture(_ relative: String) -> String { packageRoot.appendingPathComponent("Fixtures/" + relative).path }

/// A parsed JSON fixture.
func jsonFixture(_ relative: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture(relative)))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// A golden number: a JSON number, or a float written as its exact decimal string ("nan"
/// included), which Foundation's JSON reader would otherwise round; anything else fails.
func number(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
    if let text = value as? String, let parsed = Double(text) { return parsed }
    return try #require((value as? NSNumber)?.doubleValue, "not a number: \(String(describing: value))",
                        sourceLocation: sourceLocation)
}

/// A golden list of numbers (see `number`); anything else (a missing key) fails the test.
func doubles(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Double] {
    let list = try #require(value as? [Any], "not a list of numbers: \(String(describing: value))", sourceLocation: sourceLocation)
    return try list.map { try number($0, sourceLocation: sourceLocation) }
}

func floats(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Float] {
    try doubles(value, sourceLocation: sourceLocation).map(Float.init)
}

/// Fills `buffer` from a golden list of numbers, which must hold exactly as many values (a short
/// or empty fixture fails the test instead of trapping in `assign`).
func fill(_ buffer: FloatBuffer, from value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let values = try floats(value, sourceLocation: sourceLocation)
    try #require(values.count == buffer.count, "the fixture holds \(values.count) values for \(buffer.count)",
                 sourceLocation: sourceLocation)
    buffer.assign(values)
}

/// A golden list of integers; anything else fails the test.
func ints(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Int] {
    try #require(value as? [Int], "not a list of integers: \(String(describing: value))", sourceLocation: sourceLocation)
}

/// The largest absolute difference between two equally long arrays (infinity if lengths differ).
func maxDifference<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
}

/// A fresh temporary folder, removed by the caller with `removeItem`.
func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Where `swift build` put the executables: beside the test bundle.
let productsFolder: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("mlp-train").path) {
        url = url.deletingLastPathComponent()
    }
    return url
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a built executable of this package and collects its output, in `folder` when given. With
/// `interruptOn`, sends SIGINT (Ctrl-C) once standard output contains that text (and SIGKILL
/// after 120 s).
func runTool(_ name: String, _ arguments: [String], environment: [String: String] = [:],
             interruptOn marker: String? = nil, in folder: URL? = nil) throws -> RunResult {
    let process = Process()
    process.executableURL = productsFolder.appendingPathComponent(name)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    // Files rather than pipes: a chatty child can never stall on a full pipe.
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    if let marker {
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning {
            // Decoded leniently: the child may be in the middle of writing a character.
            if let bytes = try? Data(contentsOf: outURL), String(decoding: bytes, as: UTF8.self).contains(marker) {
                kill(process.processIdentifier, SIGINT)
                break
            }
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
    process.waitUntilExit()
    let outBytes = try Data(contentsOf: outURL), errBytes = try Data(contentsOf: errURL)
    return RunResult(status: process.terminationStatus, stdout: String(decoding: outBytes, as: UTF8.self),
                     stderr: String(decoding: errBytes, as: UTF8.self))
}

/// Checks the contract for bad input: a non-zero exit, no crash, and exactly one line on
/// standard error that names the file and contains `problem`.
func expectCleanFailure(_ result: RunResult, naming file: String, problem: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "exit status", sourceLocation: sourceLocation)
    #expect(result.status < 128, "killed by a signal: \(result.status)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(file), "stderr does not name \(file): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(problem), "stderr lacks '\(problem)': \(result.stderr)", sourceLocation: sourceLocation)
}

/// Central finite differences of `f` at `x`, one per coordinate: (f(x + h) - f(x - h)) / 2h.
func finiteDifferences(of f: ([Float]) -> Double, at x: [Float], step h: Float) -> [Double] {
    x.indices.map { i in
        var plus = x, minus = x
        plus[i] += h
        minus[i] -= h
        return (f(plus) - f(minus)) / Double(2 * h)
    }
}

/// Runs a Python 3 one-liner (the system's python3) with `arguments` and returns its standard
/// output, trimmed: the independent reference for checksums and the like.
func python(_ code: String, _ arguments: [String] = []) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", code] + arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `hashlib`'s digest of a file, in hex.
func hashlibDigest(_ algorithm: String, of path: String) throws -> String {
    try python("import hashlib, sys; print(hashlib.new(sys.argv[1], open(sys.argv[2], 'rb').read()).hexdigest())",
               [algorithm, path])
}

/// `zip` for comparisons: records an issue when the two sides differ in length, which `zip`
/// alone would hide by stopping at the shorter (a missing fixture value would pass unchecked).
func checkedZip<A: Collection, B: Collection>(_ a: A, _ b: B, sourceLocation: SourceLocation = #_sourceLocation) -> Zip2Sequence<A, B> {
    #expect(a.count == b.count, "\(a.count) against \(b.count) values", sourceLocation: sourceLocation)
    return zip(a, b)
}
