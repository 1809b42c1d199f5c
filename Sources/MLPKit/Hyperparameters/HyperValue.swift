import Foundation

/// One hyperparameter's value in a trial.
public enum HyperValue: Sendable, Hashable, CustomStringConvertible, Codable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return pythonFloat(v)
        case .string(let v): return v
        case .bool(let v): return v ? "true" : "false"
        }
    }

    /// A JSON number, string or boolean as a value; nil for anything else.
    public init?(json: JSONValue) {
        switch json {
        case .bool(let v): self = .bool(v)
        case .int(let v): self = .int(v)
        case .double(let v): self = .double(v)
        case .string(let v): self = .string(v)
        default: return nil
        }
    }

    public init(from decoder: Decoder) throws {
        guard let value = HyperValue(json: try JSONValue(from: decoder)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a number, string or boolean"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let v): try container.encode(v)
        case .double(let v): try container.encode(v)
        case .string(let v): try container.encode(v)
        case .bool(let v): try container.encode(v)
        }
    }

    public var number: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}
