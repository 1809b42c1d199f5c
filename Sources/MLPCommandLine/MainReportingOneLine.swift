import ArgumentParser
import Foundation
import MLPKit

/// Writes `data` to `path` atomically, for the report files the executables produce.
public func writeOutput(_ data: Data, to path: String) throws {
    try AtomicFile.write(data, to: path)
}

extension ParsableCommand {
    /// Parses the command line and runs the command, reporting every error, a bad option as
    /// much as a bad file, as one line on standard error: `tool: problem`. An `MLPError` exits
    /// with status 1; help and version requests print as usual, and the other statuses are
    /// argument-parser's (64 for a bad command line).
    public static func mainReportingOneLine() {
        let tool = configuration.commandName ?? "\(Self.self)"
        let arguments = CommandLine.arguments
        if arguments.count == 3, arguments[1] == ModelProbe.argument { ModelProbe.runChild(arguments[2]) }
        // Line by line even into a file or a pipe, so that a log shows each epoch as it ends.
        lineBufferStandardOutput()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch MLPError.setting(let name, let problem) {
            // The library names the setting as Keras does; the command line calls it --name.
            FileHandle.standardError.write(Data("\(tool): --\(name.replacingOccurrences(of: "_", with: "-")): \(problem)\n".utf8))
            Foundation.exit(1)
        } catch let error as MLPError {
            FileHandle.standardError.write(Data("\(tool): \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as ProbeError {
            FileHandle.standardError.write(Data("\(tool): \(error)\n".utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success { printHelp(for: error) }
            let problem = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !problem.isEmpty {
                // "Did you mean '--epochs'?" ends a sentence: the hint starts its own.
                let ended = problem.hasSuffix("?") || problem.hasSuffix(".")
                let hint = code == .validationFailure ? (ended ? " See \(tool) --help." : "; see \(tool) --help") : ""
                FileHandle.standardError.write(Data("\(tool): \(problem)\(hint)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

extension ParsableCommand {
    /// Prints the help (or version) `error` asks for, the extension options of an
    /// `ExtensionOptionsCommand` listed with its own, and exits 0.
    static func printHelp(for error: Error) -> Never {
        var message = fullMessage(for: error)
        if let command = Self.self as? any ExtensionOptionsCommand.Type, let help = message.range(of: "\n  -h, --help") {
            let lines = ExtensionArguments.helpLines(command.extensionOptions)
            if !lines.isEmpty { message.insert(contentsOf: "\n" + lines.joined(separator: "\n"), at: help.lowerBound) }
        }
        print(message)
        Foundation.exit(0)
    }
}
