import Foundation

/// What a worker holds while it works: a trial, or the retraining of the best values.
public enum Claim: Hashable, Sendable {
    case trial(Int)
    case retraining
}

/// Keeps a claim alive until stopped.
public protocol Heartbeat: AnyObject {
    func stop()
}

/// Where a search keeps its settings and its trials' records, and how its workers agree on who
/// runs what: a lock around each decision, and claims that expire when their worker stops
/// refreshing them. The trials' models and histories, and the search's outputs, stay in the
/// worker's own `folder`.
public protocol TrialStorage: AnyObject {
    /// This worker's name in claims and runs: "host:pid:random".
    var worker: String { get }
    /// Seconds after which a claim, or the lock, that was not refreshed has expired.
    var timeout: TimeInterval { get }
    /// The folder of this worker's files: the trials' models and histories, the outputs.
    var folder: SearchFolder { get }
    /// Where the settings are kept, as errors name it (a `search.json`'s path).
    var settingsLocation: String { get }

    /// Runs `body` holding the search's lock.
    func locked<T>(_ body: () throws -> T) throws -> T
    /// The settings the search began with; nil for a new search.
    func settings() throws -> SearchRecord?
    /// Records the settings of a new search.
    func saveSettings(_ settings: SearchRecord) throws
    /// The search's seed: `given`, or the one it began with, or for a new search one drawn at
    /// random and kept, so that workers started together on a new search agree on it.
    func agreedSeed(_ given: UInt64?) throws -> UInt64
    /// Every trial's record, by number.
    func records() throws -> [TrialRecord]
    /// Records `record`, replacing the trial's earlier record.
    func write(_ record: TrialRecord) throws
    /// Whether a worker holds `claim` and has refreshed it within the timeout.
    func isClaimed(_ claim: Claim) -> Bool
    /// Takes `claim` for this worker (under the lock).
    func claim(_ claim: Claim) throws
    /// Gives up this worker's `claim`.
    func release(_ claim: Claim)
    /// Refreshes this worker's `claim` from a thread of its own until stopped.
    func heartbeat(_ claim: Claim) -> Heartbeat
}

/// A trial storage that a search opens by a URL's scheme (`file:///path/to/folder`). A new
/// storage is one file with a type conforming here; `TrialStorages` finds it.
public protocol RegisteredTrialStorage: TrialStorage {
    /// The URL scheme that names it: "file".
    static var scheme: String { get }
    /// Opens the storage `url` names, with `folder` for this worker's files.
    static func open(url: String, folder: String, timeout: TimeInterval) throws -> Self
}

/// The trial storages, found at build time from the types conforming to `RegisteredTrialStorage`.
public enum TrialStorages {
    /// Every storage's scheme, in alphabetical order.
    public static var schemes: [String] { registered.map { $0.scheme }.sorted() }

    /// Opens the storage that `url`'s scheme names.
    public static func open(url: String, folder: String, timeout: TimeInterval) throws -> TrialStorage {
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        guard let type = registered.first(where: { $0.scheme == scheme }) else {
            throw MLPError.setting("storage", problem: "'\(scheme)' is not a storage this toolchain opens (known: \(schemes.joined(separator: ", ")))")
        }
        return try type.open(url: url, folder: folder, timeout: timeout)
    }
}
