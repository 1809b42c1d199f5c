import CPostgres
import Foundation

/// A connection to a PostgreSQL server through libpq. The URL is libpq's own
/// (`postgresql://user[:password]@host[:port]/db[?param=value]`; SQLAlchemy's
/// `postgresql+psycopg2://` spelling is taken too), so `PGPASSWORD`, `~/.pgpass` and the other
/// `PG…` variables apply as they do to `psql`. The password never appears in `location`.
public final class PostgreSQLConnection: SQLConnection {
    public let location: String
    private var connection: OpaquePointer?
    private var inTransaction = false
    /// Statements prepared on this connection, by their text: the server parses and plans
    /// each once.
    private var prepared: [String: String] = [:]
    /// Statements waiting to go with the next one, their parameters written in as literals.
    private var pending: [String] = []
    public private(set) var changes = 0

    public init(url: String) throws {
        location = maskedURL(url)
        var libpqURL = url
        if let plus = url.range(of: "+"), let scheme = url.range(of: "://"), plus.lowerBound < scheme.lowerBound {
            libpqURL = String(url[..<plus.lowerBound]) + String(url[scheme.lowerBound...])
        }
        // A server that does not answer is given up on after 10 s rather than the system's TCP
        // timeout, so that a worker waiting out an outage tries again on time.
        if !libpqURL.contains("connect_timeout=") { libpqURL += (libpqURL.contains("?") ? "&" : "?") + "connect_timeout=10" }
        connection = PQconnectdb(libpqURL)
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            connection = nil
            throw SQLError(message: "cannot connect: \(message)", connectionLost: true)
        }
        // Notices (an existing type or table) are not the user's business.
        _ = try? query("SET client_min_messages TO WARNING")
    }

    deinit { PQfinish(connection) }

    public let now = "LOCALTIMESTAMP"

    public func secondsAgo(parameter n: Int) -> String { "LOCALTIMESTAMP - make_interval(secs => $\(n)::double precision)" }

    /// Reconnects a connection the server dropped (servers close idle connections, and restart).
    private func ensureConnected() throws {
        guard PQstatus(connection) != CONNECTION_OK else { return }
        guard !inTransaction else { throw lost() }
        PQreset(connection)
        prepared.removeAll()
        guard PQstatus(connection) == CONNECTION_OK else { throw lost() }
    }

    /// The server went away: its first line of explanation ("FATAL: terminating connection due
    /// to administrator command", "Connection refused").
    private func lost() -> SQLError {
        let reason = String(cString: PQerrorMessage(connection)).split(separator: "\n").first
            .map { $0.replacingOccurrences(of: "  ", with: " ").trimmingCharacters(in: .whitespaces) } ?? ""
        return SQLError(message: "the server went away" + (reason.isEmpty ? "" : " (\(reason))"), connectionLost: true)
    }

    public func enqueue(_ sql: String, _ parameters: [SQLValue]) throws {
        pending.append(try inline(sql, parameters))
    }

    /// `sql` with each `$n` replaced by parameter n as an SQL literal (text through libpq's
    /// own quoting).
    private func inline(_ sql: String, _ parameters: [SQLValue]) throws -> String {
        var result = ""
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            index = sql.index(after: index)
            guard character == "$", index < sql.endIndex, sql[index].isASCII, sql[index].isNumber else {
                result.append(character)
                continue
            }
            var digits = ""
            while index < sql.endIndex, sql[index].isASCII, sql[index].isNumber {
                digits.append(sql[index])
                index = sql.index(after: index)
            }
            guard let n = Int(digits), (1...parameters.count).contains(n) else { throw SQLError(message: "no parameter $\(digits)") }
            switch parameters[n - 1] {
            case .null: result += "NULL"
            case .integer(let v): result += String(v)
            case .double(let v): result += v.isNaN ? "'NaN'::float8" : v.isInfinite ? (v > 0 ? "'Infinity'::float8" : "'-Infinity'::float8") : "\(v)"
            case .text(let v):
                guard let quoted = PQescapeLiteral(connection, v, v.utf8.count) else { throw lost() }
                result += String(cString: quoted)
                PQfreemem(quoted)
            }
        }
        return result
    }

    /// Sends the waiting statements and `last` as one script; the result is `last`'s.
    private func flush(with last: String) throws -> [[SQLValue]] {
        let script = (pending + [last]).joined(separator: ";\n")
        pending.removeAll()
        let result = PQexec(connection, script)
        defer { PQclear(result) }
        return try rows(of: result)
    }

    private func rows(of result: OpaquePointer?) throws -> [[SQLValue]] {
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            if PQstatus(connection) != CONNECTION_OK { throw lost() }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw SQLError(state: state, message: String(cString: PQresultErrorMessage(result)))
        }
        changes = Int(String(cString: PQcmdTuples(result))) ?? 0
        let count = Int(PQntuples(result)), columns = Int(PQnfields(result))
        return (0..<count).map { row in
            (0..<columns).map { column in
                PQgetisnull(result, Int32(row), Int32(column)) != 0 ? .null
                    : .text(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
            }
        }
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try ensureConnected()
        if !pending.isEmpty { return try flush(with: try inline(sql, parameters)) }
        let texts: [String?] = parameters.map { value in
            switch value {
            case .null: return nil
            case .integer(let v): return String(v)
            case .double(let v): return v.isNaN ? "NaN" : v.isInfinite ? (v > 0 ? "Infinity" : "-Infinity") : "\(v)"
            case .text(let v): return v
            }
        }
        let cStrings = texts.map { $0.map { strdup($0) } ?? nil }
        defer { cStrings.forEach { free($0) } }
        let pointers = cStrings.map { UnsafePointer<CChar>($0) }
        let name = try statement(for: sql, parameters: parameters.count)
        let result = pointers.withUnsafeBufferPointer { buffer in
            name.map { PQexecPrepared(connection, $0, Int32(parameters.count), buffer.baseAddress, nil, nil, 0) }
                ?? PQexecParams(connection, sql, Int32(parameters.count), nil, buffer.baseAddress, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try rows(of: result)
    }

    /// The name of `sql` prepared on the server, preparing it the first time; nil for a
    /// statement without parameters, or past the first 256 kinds (lists of ids vary).
    private func statement(for sql: String, parameters: Int) throws -> String? {
        if let name = prepared[sql] { return name }
        guard parameters > 0, prepared.count < 256 else { return nil }
        let name = "mlp_\(prepared.count)"
        let result = PQprepare(connection, name, sql, Int32(parameters), nil)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            if PQstatus(connection) != CONNECTION_OK { throw lost() }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw SQLError(state: state, message: String(cString: PQresultErrorMessage(result)))
        }
        prepared[sql] = name
        return name
    }

    public func execute(script: String) throws {
        try ensureConnected()
        if !pending.isEmpty {
            _ = try flush(with: script)
            return
        }
        let result = PQexec(connection, script)
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            if PQstatus(connection) != CONNECTION_OK { throw lost() }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw SQLError(state: state, message: String(cString: PQresultErrorMessage(result)))
        }
    }

    /// BEGIN goes with the transaction's first statement.
    public func beginLocked(study: Int?) throws {
        try ensureConnected()
        pending.append("BEGIN")
        inTransaction = true
        if let study { try query("SELECT study_id FROM studies WHERE study_id = $1 FOR UPDATE", .integer(Int64(study))) }
    }

    public func commit() throws {
        defer { inTransaction = false }
        try execute(script: "COMMIT")
    }

    public func rollback() {
        inTransaction = false
        pending.removeAll()
        _ = PQclear(PQexec(connection, "ROLLBACK"))
    }
}
