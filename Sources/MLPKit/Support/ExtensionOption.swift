import Foundation

/// A command-line option that a registered part brings with it (a callback's `--early-stopping`,
/// a hyperparameter's `--units`), so that adding the part adds its option: the executables read
/// these from the arguments their own options leave over, and list them in their help.
public struct ExtensionOption: Sendable {
    /// The option's name without its dashes: "early-stopping".
    public let name: String
    /// The value's name in the help, "patience"; nil for a switch that takes no value.
    public let valueName: String?
    public let help: String
    /// Other names it answers to, each with a note that it is the former name.
    public let formerNames: [String]
    /// Whether a value may follow a switch (`--batch-norm`, `--batch-norm true,false`): the word
    /// after it is its value when `takesValue` accepts it.
    public let takesValue: (@Sendable (String) -> Bool)?
    /// Reads the option's text as its value, or says what is wrong ("must be 0 to 10000 epochs,
    /// got -1", the option's name prefixed by the reader).
    public let read: @Sendable (String) throws -> JSONValue
    /// The value when the option is left out, if it has one.
    public let defaultValue: JSONValue?
    /// Whether its value names a file or folder the part writes, which the tool then names
    /// among what it wrote.
    public let writes: Bool

    public init(name: String, valueName: String?, help: String, formerNames: [String] = [], defaultValue: JSONValue? = nil,
                takesValue: (@Sendable (String) -> Bool)? = nil, writes: Bool = false,
                read: @escaping @Sendable (String) throws -> JSONValue) {
        (self.name, self.valueName, self.help, self.formerNames) = (name, valueName, help, formerNames)
        (self.defaultValue, self.takesValue, self.writes, self.read) = (defaultValue, takesValue, writes, read)
    }

    /// The files and folders that `options` given in `values` write, as given.
    public static func written(by options: [ExtensionOption], in values: ExtensionValues) -> [String] {
        options.filter(\.writes).compactMap { values[$0.name]?.string }
    }

    /// The option as the help shows it: "--early-stopping <patience>".
    public var label: String { "--" + name + (valueName.map { " <\($0)>" } ?? "") }

    /// A whole number in `range`; out of it, "must be LOW to HIGH UNIT, got X".
    public static func integer(_ name: String, valueName: String, help: String, range: ClosedRange<Int>, unit: String = "") -> ExtensionOption {
        ExtensionOption(name: name, valueName: valueName, help: help) { text in
            guard let value = Int(text) else { throw ExtensionOptionError.invalid(text) }
            guard range.contains(value) else {
                throw ExtensionOptionError.problem("must be \(range.lowerBound) to \(range.upperBound)\(unit.isEmpty ? "" : " " + unit), got \(value)")
            }
            return .int(value)
        }
    }

    /// A number strictly between `low` and `high`.
    public static func fraction(_ name: String, valueName: String, help: String, above low: Double, below high: Double,
                                defaultValue: Double? = nil) -> ExtensionOption {
        ExtensionOption(name: name, valueName: valueName, help: help, defaultValue: defaultValue.map(JSONValue.double)) { text in
            guard let value = Double(text) else { throw ExtensionOptionError.invalid(text) }
            guard value > low, value < high else {
                func bound(_ x: Double) -> String { Int(exactly: x).map(String.init) ?? pythonFloat(x) }
                throw ExtensionOptionError.problem("must be above \(bound(low)) and below \(bound(high)), got \(value)")
            }
            return .double(value)
        }
    }

    /// A file to write, whose name must ask for one of `formats` (its extension).
    public static func output(_ name: String, valueName: String = "file", help: String, formats: [String]) -> ExtensionOption {
        ExtensionOption(name: name, valueName: valueName, help: help, writes: true) { text in
            do {
                try OutputName.check(text, flag: name, formats: formats)
            } catch MLPError.setting(_, let problem) {
                throw ExtensionOptionError.problem(problem)
            }
            return .string(text)
        }
    }

    /// Any text: a folder, a list the part reads itself.
    public static func text(_ name: String, valueName: String, help: String, formerNames: [String] = [],
                            takesValue: (@Sendable (String) -> Bool)? = nil, writes: Bool = false) -> ExtensionOption {
        ExtensionOption(name: name, valueName: valueName, help: help, formerNames: formerNames, takesValue: takesValue,
                        writes: writes) { .string($0) }
    }
}

/// Why an extension option's text was refused.
public enum ExtensionOptionError: Error, Equatable {
    /// Not a value of the option's type at all.
    case invalid(String)
    /// A value of the right type that the option does not take.
    case problem(String)
}

/// The values of the extension options given, by option name; a switch given without a value
/// holds `true`.
public struct ExtensionValues: Sendable, Equatable {
    public private(set) var values: [String: JSONValue] = [:]

    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    public subscript(name: String) -> JSONValue? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The values of `options` only.
    public func filtered(to options: [ExtensionOption]) -> ExtensionValues {
        let names = Set(options.map(\.name))
        return ExtensionValues(values.filter { names.contains($0.key) })
    }

    public var isEmpty: Bool { values.isEmpty }
}
