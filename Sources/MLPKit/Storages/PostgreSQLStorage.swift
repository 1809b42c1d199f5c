import Foundation

/// `postgresql://user[:password]@host[:port]/db` (or SQLAlchemy's `postgresql+psycopg2://…`):
/// a search in Optuna's tables on a PostgreSQL server, shared by workers on any machine.
public enum PostgreSQLStorage: RegisteredStorage {
    public static let scheme = "postgresql"

    public static func open(url: String, options: TrialStorageOptions) throws -> TrialStorage {
        let connection: PostgreSQLConnection
        do {
            connection = try PostgreSQLConnection(url: url)
        } catch let error as SQLError {
            throw MLPError.io(path: maskedURL(url), problem: error.message)
        }
        return try RDBStorage(connection: connection, options: options)
    }
}
