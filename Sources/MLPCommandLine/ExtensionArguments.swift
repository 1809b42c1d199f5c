import ArgumentParser
import Foundation
import MLPKit

/// A command that takes, beside its own options, the options its registered parts bring (a
/// callback's `--early-stopping`, a hyperparameter's `--units`): ArgumentParser hands over what it
/// does not recognise (`@Argument(parsing: .allUnrecognized)`), `ExtensionArguments` reads them,
/// and the help lists them with the command's own.
public protocol ExtensionOptionsCommand: ParsableCommand {
    static var extensionOptions: [ExtensionOption] { get }
}

/// Reads extension options from the words ArgumentParser left over, with ArgumentParser's own
/// messages for what it would have refused.
public enum ExtensionArguments {
    /// The values of `options` in `words`, and a note for each former name used.
    ///
    /// - Parameter command: the command, whose own options an unknown option's suggestion
    ///   may name.
    public static func parse(_ words: [String], options: [ExtensionOption], command: any ParsableCommand.Type) throws
        -> (values: ExtensionValues, notes: [String])
    {
        var values = ExtensionValues(), notes: [String] = [], given: [String: String] = [:]
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("--"), word.count > 2 else {
                throw ValidationError(word == "--" ? "Unexpected argument '--'" : "Unexpected argument '\(word)'")
            }
            let parts = word.dropFirst(2).split(separator: "=", maxSplits: 1).map(String.init)
            guard let option = options.first(where: { $0.name == parts[0] || $0.formerNames.contains(parts[0]) }) else {
                throw ValidationError("Unknown option '--\(parts[0])'" + suggestion(parts[0], options: options, command: command))
            }
            if parts[0] != option.name {
                if given[option.name] == option.name { throw ValidationError("--\(parts[0]) is the former name of --\(option.name); give one") }
                notes.append("note: --\(parts[0]) is now --\(option.name); the old name still works")
            } else if let former = given[option.name], former != option.name {
                throw ValidationError("--\(former) is the former name of --\(option.name); give one")
            }
            given[option.name] = parts[0]
            var text: String?
            if parts.count == 2 {
                text = parts[1]
            } else if index < words.count, option.takesValue.map({ $0(words[index]) }) ?? (option.valueName != nil) {
                text = words[index]
                index += 1
            }
            guard let text else {
                if option.valueName == nil || option.takesValue != nil {
                    values[option.name] = true
                    continue
                }
                throw ValidationError("Missing value for '\(option.label)'")
            }
            do {
                values[option.name] = try option.read(text)
            } catch ExtensionOptionError.invalid(let value) {
                throw ValidationError("The value '\(value)' is invalid for '\(option.label)'")
            } catch ExtensionOptionError.problem(let problem) {
                throw ValidationError("--\(option.name) \(problem)")
            }
        }
        return (values, notes)
    }

    /// ". Did you mean '--units'?" for the nearest option name, or nothing when none is near.
    static func suggestion(_ name: String, options: [ExtensionOption], command: any ParsableCommand.Type) -> String {
        let own = command.helpMessage().split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" })
            .filter { $0.hasPrefix("--") }.map { String($0.dropFirst(2)) }
        let names = Set(own + options.map(\.name))
        guard let best = names.map({ ($0, distance(name, $0)) }).min(by: { ($0.1, $0.0) < ($1.1, $1.0) }), best.1 <= 3, best.1 < name.count
        else { return "" }
        return ". Did you mean '--\(best.0)'?"
    }

    /// Levenshtein's distance between two names.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }

    /// The help lines of `options`, as ArgumentParser lays out its own: the label, then the help
    /// from column 26, in lines of at most 79 characters.
    public static func helpLines(_ options: [ExtensionOption]) -> [String] {
        options.flatMap { option -> [String] in
            let label = "  " + option.label
            let help = option.help + (option.defaultValue.map { " (default: \($0.displayText))" } ?? "")
            var words = help.split(separator: " ").map(String.init)
            var lines: [String] = []
            var line = label.count < 24 ? label.padding(toLength: 26, withPad: " ", startingAt: 0) : String(repeating: " ", count: 26)
            if label.count >= 24 { lines.append(label) }
            while !words.isEmpty {
                let word = words.removeFirst()
                let blank = line.trimmingCharacters(in: .whitespaces).isEmpty || line.count == 26
                if !blank, line.count + 1 + word.count > 79 {
                    lines.append(line)
                    line = String(repeating: " ", count: 26)
                }
                line += (line.count == 26 ? "" : " ") + word
            }
            return lines + [line]
        }
    }
}
