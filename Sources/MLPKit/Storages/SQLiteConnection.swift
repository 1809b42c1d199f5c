import CSQLite
import Foundation

/// A connection to an SQLite database file, as SQLAlchemy names it: `sqlite:///relative.db`,
/// `sqlite:////absolute/path.db`. Writers take the file's lock for their whole transaction
/// (`BEGIN IMMEDIATE`) and wait up to a minute for it, trying again often.
public final class SQLiteConnection: SQLConnection {
    public let location: String
    private var database: OpaquePointer?
    public private(set) var changes = 0

    public init(url: String) throws {
        location = url
        guard url.hasPrefix("sqlite:///"), url.count > "sqlite:///".count else {
            throw SQLError(message: "not an SQLite URL of a file (sqlite:///relative.db or sqlite:////absolute/path.db)")
        }
        let path = String(url.dropFirst("sqlite:///".count))
        let status = sqlite3_open_v2(path, &database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK else {
            let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(database)
            database = nil
            throw SQLError(message: "cannot open \(path): \(message)")
        }
        // SQLite's own busy timeout sleeps 1, 2, 5, 10 … ms between tries, far longer than a
        // worker holds the lock (well under a millisecond): tries every 100 µs for the first
        // 20 ms, then every millisecond, for up to a minute.
        sqlite3_busy_handler(database, { _, tries in
            guard tries < 200 + 60_000 else { return 0 }
            usleep(tries < 200 ? 100 : 1_000)
            return 1
        }, nil)
    }

    deinit { sqlite3_close(database) }

    /// Microseconds as SQLAlchemy writes them (SQLite's clock has milliseconds).
    public let now = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"

    public func secondsAgo(parameter n: Int) -> String { "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || $\(n) || ' seconds')" }

    private func failure(_ status: Int32) -> SQLError {
        let busy = status & 0xff == SQLITE_BUSY || status & 0xff == SQLITE_LOCKED
        return SQLError(state: busy ? "SQLITE_BUSY" : nil, message: String(cString: sqlite3_errmsg(database)))
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
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
        return rows
    }

    /// In-process: run at once.
    public func enqueue(_ sql: String, _ parameters: [SQLValue]) throws { try query(sql, parameters) }

    public func execute(script: String) throws {
        let status = sqlite3_exec(database, script, nil, nil, nil)
        guard status == SQLITE_OK else { throw failure(status) }
    }

    public func beginLocked(study: Int?) throws { try execute(script: "BEGIN IMMEDIATE") }

    public func commit() throws { try execute(script: "COMMIT") }

    public func rollback() { _ = sqlite3_exec(database, "ROLLBACK", nil, nil, nil) }
}
