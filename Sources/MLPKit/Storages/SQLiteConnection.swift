import CSQLite
import Foundation

/// A connection to an SQLite database file, as SQLAlchemy names it: `sqlite:///relative.db`,
/// `sqlite:////absolute/path.db`. Writers take the file's lock for their whole transaction
/// (`BEGIN IMMEDIATE`) and wait up to `busyTimeout` for it, trying again often; a lock held
/// longer, or a file that cannot be read or written (a network filesystem's outage), is an
/// outage that the storage waits out, reopening the file.
public final class SQLiteConnection: SQLConnection {
    public let location: String
    private let path: String
    private var database: OpaquePointer?
    /// The file failed to read or write: it is opened again before the next statement.
    private var reopen = false
    public private(set) var changes = 0
    /// Seconds a statement waits for another connection's lock before it fails as an outage.
    public static let busyTimeout = 10
    /// Milliseconds the next statement waits for a lock: `busyTimeout`, or one second while an
    /// outage is being waited out, so that each try comes back in time to count the wait.
    private var busyMilliseconds = Int32(busyTimeout * 1_000)

    public init(url: String) throws {
        location = url
        guard url.hasPrefix("sqlite:///"), url.count > "sqlite:///".count else {
            throw SQLError(message: "not an SQLite URL of a file (sqlite:///relative.db or sqlite:////absolute/path.db)")
        }
        path = String(url.dropFirst("sqlite:///".count))
        try open(creating: true)
    }

    /// Opens the file; after an outage, only one that exists (never a new empty database in
    /// place of one that vanished for a moment).
    private func open(creating: Bool) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (creating ? SQLITE_OPEN_CREATE : 0)
        let status = sqlite3_open_v2(path, &database, flags, nil)
        guard status == SQLITE_OK else {
            let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(database)
            database = nil
            throw SQLError(message: "cannot open \(path): \(message)", connectionLost: !creating)
        }
        // SQLite's own busy timeout sleeps 1, 2, 5, 10 … ms between tries, far longer than a
        // worker holds the lock (well under a millisecond): tries every 100 µs for the first
        // 20 ms, then every millisecond, for up to `busyTimeout`.
        sqlite3_busy_handler(database, { context, tries in
            let connection = Unmanaged<SQLiteConnection>.fromOpaque(context!).takeUnretainedValue()
            guard tries < 200 + connection.busyMilliseconds else { return 0 }
            usleep(tries < 200 ? 100 : 1_000)
            return 1
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Opens the file again after it failed to read or write.
    private func ensureOpen() throws {
        guard reopen else { return }
        sqlite3_close(database)
        database = nil
        try open(creating: false)
        reopen = false
    }

    deinit { sqlite3_close(database) }

    /// Microseconds as SQLAlchemy writes them (SQLite's clock has milliseconds).
    public let now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"

    public func secondsAgo(parameter n: Int) -> String { "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || $\(n) || ' seconds')" }

    /// A failed statement's error. A lock still held past the busy handler's wait, and a file
    /// that cannot be read or written, are outages; a snapshot that went stale under a reader
    /// (no waiting helps) is retried at once.
    private func failure(_ status: Int32) -> SQLError {
        let message = String(cString: sqlite3_errmsg(database))
        let extended = sqlite3_extended_errcode(database)
        // SQLITE_BUSY_SNAPSHOT: SQLITE_BUSY | 2 << 8.
        if extended == SQLITE_BUSY | 2 << 8 { return SQLError(state: "SQLITE_BUSY", message: message) }
        switch status & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            defer { busyMilliseconds = 1_000 }
            return SQLError(message: "\(message) (for over \(busyMilliseconds / 1_000) s)", connectionLost: true)
        case SQLITE_IOERR, SQLITE_CANTOPEN:
            reopen = true
            return SQLError(message: message, connectionLost: true)
        default:
            return SQLError(message: message)
        }
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try ensureOpen()
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(database, sql, -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard prepared == SQLITE_OK else { throw failure(prepared) }
        for (offset, value) in parameters.enumerated() {
            let index = sqlite3_bind_parameter_index(statement, "$\(offset + 1)")
            guard index > 0 else { continue }
            switch value {
            case .null: sqlite3_bind_null(statement, index)
            case .integer(let v): sqlite3_bind_int64(statement, index, v)
            case .double(let v): sqlite3_bind_double(statement, index, v)
            case .text(let v): sqlite3_bind_text(statement, index, v, -1, csqlite_transient())
            }
        }
        var rows: [[SQLValue]] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw failure(step) }
            rows.append((0..<sqlite3_column_count(statement)).map { column in
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
                case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, column))
                case SQLITE_NULL: return .null
                default: return .text(String(cString: sqlite3_column_text(statement, column)))
                }
            })
        }
        changes = Int(sqlite3_changes(database))
        busyMilliseconds = Int32(Self.busyTimeout * 1_000)
        return rows
    }

    /// In-process: run at once.
    public func enqueue(_ sql: String, _ parameters: [SQLValue]) throws { try query(sql, parameters) }

    public func execute(script: String) throws {
        try ensureOpen()
        let status = sqlite3_exec(database, script, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status) }
        busyMilliseconds = Int32(Self.busyTimeout * 1_000)
    }

    public func beginLocked(study: Int?) throws { try execute(script: "BEGIN IMMEDIATE") }

    public func commit() throws { try execute(script: "COMMIT") }

    public func rollback() { _ = sqlite3_exec(database, "ROLLBACK", nil, nil, nil) }
}
