import Foundation

/// A JSON value of any shape, for the parts of a file whose schema is open (Keras's configs, a
/// search space file, Optuna's attributes, the reports printed as JSON); this toolchain's own
/// records are `Codable` types.
///
/// Numbers written without a fraction read as `int` (JSON does not tell 9 from 9.0).
public enum JSONValue: Codable, Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null } else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The JSON in `data`; nil when it is not JSON.
    public init?(parsing data: Data) {
        guard let value = try? JSONRecords.decoder().decode(JSONValue.self, from: data) else { return nil }
        self = value
    }

    /// The JSON in `text`; nil when it is not JSON.
    public init?(parsing text: String) { self.init(parsing: Data(text.utf8)) }

    /// A float as its shortest decimal form reads (0.9, not 0.8999999761581421), so that a
    /// config reads as it was written.
    public init(_ value: Float) { self = .double(value.decimalDouble) }

    /// `value` as a JSON value, through its `Encodable` form.
    public init<T: Encodable>(encoding value: T) throws { self = try JSONRecords.value(value) }

    /// The member `key` of an object; nil for a missing member or another kind of value.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? { if case .string(let value) = self { return value } else { return nil } }
    public var bool: Bool? { if case .bool(let value) = self { return value } else { return nil } }
    public var array: [JSONValue]? { if case .array(let value) = self { return value } else { return nil } }
    public var object: [String: JSONValue]? { if case .object(let value) = self { return value } else { return nil } }
    public var isNull: Bool { self == .null }

    /// The whole number, for an `int` or a `double` without a fraction.
    public var int: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The value as a message shows it: a string without quotes, a float as Python prints it,
    /// anything else as its JSON.
    public var displayText: String {
        switch self {
        case .string(let value): return value
        case .double(let value): return pythonFloat(value)
        default: return text
        }
    }

    /// The number, for an `int` or a `double`.
    public var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }
}

extension JSONValue {
    /// Compact JSON text with sorted keys, as Python's `json.dumps` spells its values: a float
    /// keeps its fraction ("10.0", "1e-07"), so that Keras's loaders, which insist on float
    /// settings, read it as a float; NaN and the infinities as Python writes them.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value):
            out += value.isNaN ? "NaN" : value.isInfinite ? (value < 0 ? "-Infinity" : "Infinity") : pythonFloat(value)
        case .string(let value): Self.write(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                Self.write(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }

    /// `string` as a JSON string literal, quotes included (also a YAML double-quoted scalar).
    static func quoted(_ string: String) -> String {
        var out = ""
        write(string, to: &out)
        return out
    }

    private static func write(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// How this toolchain writes and reads its own JSON records: keys sorted, numbers exact (the
/// shortest decimal that reads back to the same double), dates as seconds since 1970.
public enum JSONRecords {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.nonConformingFloatEncodingStrategy = .throw
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    /// `value` as compact JSON text.
    public static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// `value` as a `JSONValue`, to compare records key by key.
    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        try decoder().decode(JSONValue.self, from: try encoder().encode(value))
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements) { _, last in last }) }
}

extension JSONValue {
    /// An optional as a member: the value, or JSON null.
    public init(_ value: String?) { self = value.map(JSONValue.string) ?? .null }
    public init(_ value: Int) { self = .int(value) }
    public init(_ value: Double) { self = .double(value) }
    public init(_ value: [Int]) { self = .array(value.map(JSONValue.int)) }
    public init(_ value: [String]) { self = .array(value.map(JSONValue.string)) }
    /// A finite number, or null (JSON has no NaN).
    public init(finite value: Double) { self = value.isFinite ? .double(value) : .null }
}
