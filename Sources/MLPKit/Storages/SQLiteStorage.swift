import Foundation

/// `sqlite:///relative.db` or `sqlite:////absolute/path.db`: a search in Optuna's tables in an
/// SQLite file, shared by the workers of one machine (and Python's, through the same URL).
public enum SQLiteStorage: RegisteredStorage {
    public static let scheme = "sqlite"

    public static func open(url: String, options: TrialStorageOptions) throws -> TrialStorage {
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(url: url)
        } catch let error as SQLError {
            throw MLPError.io(path: url, problem: error.message)
        }
        return try RDBStorage(connection: connection, options: options)
    }
}
