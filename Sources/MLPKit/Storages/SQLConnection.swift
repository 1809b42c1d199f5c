import Foundation

/// A value bound to a statement's parameter or read from a row.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)

    public var int: Int? {
        switch self {
        case .integer(let v): return Int(v)
        case .double(let v): return v.isFinite && v == v.rounded() ? Int(exactly: v) : nil
        case .text(let v): return Int(v)
        case .null: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .double(let v): return v
        case .text(let v): return Double(v)
        case .null: return nil
        }
    }

    public var text: String? {
        switch self {
        case .text(let v): return v
        case .integer(let v): return String(v)
        case .double(let v): return String(v)
        case .null: return nil
        }
    }
}

/// A database's failure: its message and, from PostgreSQL, its SQLSTATE ("40P01" a deadlock,
/// "40001" a serialization failure, "08…" a lost connection).
public struct SQLError: Error, CustomStringConvertible {
    public var state: String?
    public var message: String
    /// The database could not be reached: the server went away or never answered, or an
    /// SQLite file could not be read or written, or stayed locked past its busy timeout. A
    /// worker waits such an outage out (`TrialStorageOptions.storageTimeout`).
    public var connectionLost: Bool

    public init(state: String? = nil, message: String, connectionLost: Bool = false) {
        self.state = state
        self.message = message.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " ")
        self.connectionLost = connectionLost
    }

    /// A deadlock or a serialization failure: the transaction may simply be run again.
    public var isRetryable: Bool { state == "40P01" || state == "40001" || state == "SQLITE_BUSY" }

    public var description: String { message }
}

/// One connection to a database, used by one thread at a time. Statements number their
/// parameters `$1`, `$2`, … in both dialects.
public protocol SQLConnection: AnyObject {
    /// The database, as messages name it (a URL with its password masked).
    var location: String { get }
    /// SQL for the database server's clock now, as a timestamp without a time zone.
    var now: String { get }
    /// SQL for the server's clock `$n` seconds ago (`n` the parameter's number).
    func secondsAgo(parameter n: Int) -> String
    /// Runs one statement; the rows it returns.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]]
    /// Runs a statement whose result is not needed, possibly together with the next one (one
    /// round trip to a server for both); its failure may surface at that next statement.
    func enqueue(_ sql: String, _ parameters: [SQLValue]) throws
    /// Runs statements without parameters, separated by semicolons.
    func execute(script: String) throws
    /// Begins a transaction that holds the database's write lock, or the given study row's
    /// lock where rows can be locked, until `commit` or `rollback`.
    func beginLocked(study: Int?) throws
    func commit() throws
    func rollback()
    /// Rows changed by the last statement.
    var changes: Int { get }
}

extension SQLConnection {
    @discardableResult
    public func query(_ sql: String, _ parameters: SQLValue...) throws -> [[SQLValue]] { try query(sql, parameters) }
}

/// A database URL with its password replaced by "***", for every message and record.
public func maskedURL(_ url: String) -> String {
    guard let scheme = url.range(of: "://") else { return url }
    let rest = url[scheme.upperBound...]
    let authority = rest[..<(rest.firstIndex(of: "/") ?? rest.endIndex)]
    guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return url }
    return String(url[...colon]) + "***" + String(url[at...])
}
