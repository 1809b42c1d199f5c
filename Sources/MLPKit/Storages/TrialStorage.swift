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
    /// Where the settings are kept, as errors name it (a `search.json`'s path; "study 'q' in
    /// sqlite:///q.db").
    var settingsLocation: String { get }
    /// How messages speak of the search the storage holds ("this folder", "this study"), and
    /// what a worker with other settings should do instead ("use another folder").
    var searchNoun: String { get }
    var remedy: String { get }
    /// How a refusal names what the storage records: "the search in out has 2 epochs a trial
    /// (its search.json)".
    func recorded(_ what: String) -> String
    /// How messages name the search: "the search in out", "study 'q' in sqlite:///q.db".
    var searchName: String { get }
    /// The line a worker prints when it starts a search here: "new search in out/".
    var newSearchLine: String { get }
    /// Whether a trial's worker can go on from an earlier trial's model: the models are where
    /// every worker reads them (one folder), not each on its own machine.
    var resumesPastTrials: Bool { get }
    /// A line on the storage's own cost, for the trials this worker ran (a database's time a
    /// trial); nil when there is nothing to say.
    func costLine(trials: Int) -> String?
    /// Makes the storage ready for work (a new search's folder, a worker's own folder), once
    /// the settings are known to agree.
    func prepare() throws
    /// Whether the search's outputs (`trials.csv`, the journal, `best.h5`, ...) are one set in
    /// a folder every worker shares, and so written under the lock; false where each worker's
    /// folder is its own.
    var sharesOutputs: Bool { get }

    /// Runs `body` holding the search's lock.
    func locked<T>(_ body: () throws -> T) throws -> T
    /// Runs a decision: `body` reads the trials, then writes what it decided (a new trial, a
    /// claimed one, a running trial's progress). Where the storage's writes check what the
    /// decision rests on (a database: a new trial's number, an enqueued trial's state), it runs
    /// without the lock, read in statements of their own, and is taken again from its reads
    /// when another worker wrote first; elsewhere, under the lock.
    func deciding<T>(_ body: () throws -> T) throws -> T
    /// The settings the search began with; nil for a new search.
    func settings() throws -> SearchRecord?
    /// Records the settings of a new search.
    func saveSettings(_ settings: SearchRecord) throws
    /// The search's seed, decided once under the lock: the one it began with (a worker that
    /// gives another is refused, naming it), or for a new search `given` or one drawn at
    /// random, kept at once, so that workers started together on a new search agree on it
    /// whichever comes first.
    func agreedSeed(_ given: UInt64?) throws -> UInt64
    /// Every trial's record, by number.
    func records() throws -> [TrialRecord]
    /// Records `record`, replacing the trial's earlier record; false when the trial had ended
    /// meanwhile (failed by another worker while this one was away), which is left as it is.
    @discardableResult
    func write(_ record: TrialRecord) throws -> Bool
    /// Runs `body`, the writes of a trial that is training: where the storage can be lost for
    /// a while (a database), nil when it cannot be reached now, so that training goes on and
    /// what `body` was to write is written at its next turn.
    func duringTraining<T>(_ body: () throws -> T) throws -> T?
    /// Whether a worker holds `claim` and has refreshed it within the timeout.
    func isClaimed(_ claim: Claim) -> Bool
    /// Takes `claim` for this worker (under the lock).
    func claim(_ claim: Claim) throws
    /// Gives up this worker's `claim`.
    func release(_ claim: Claim)
    /// Refreshes this worker's `claim` from a thread of its own until stopped.
    func heartbeat(_ claim: Claim) -> Heartbeat
}

extension TrialStorage {
    public func deciding<T>(_ body: () throws -> T) throws -> T { try locked(body) }
    public func costLine(trials: Int) -> String? { nil }
    public func duringTraining<T>(_ body: () throws -> T) throws -> T? { try body() }

    /// A worker's `--seed` that is not the search's.
    func seedRefusal(given: UInt64, recorded: UInt64) -> MLPError {
        .setting("seed", problem: "\(given): \(self.recorded("seed \(recorded)")); leave --seed out to join it, or \(remedy)")
    }
}

/// How a worker opens a storage: its own folder, and what a database study needs.
public struct TrialStorageOptions: Sendable {
    /// This worker's folder: its trials' models and histories, and the search's outputs.
    public var folder: String
    /// Seconds after which an unrefreshed claim or lock of the folder storage has expired.
    public var timeout: TimeInterval = 60
    /// The study's name in a database (Optuna's `study_name`).
    public var studyName: String?
    /// Seconds between a running trial's heartbeats in a database; a trial whose heartbeat is
    /// older than twice this is failed by the next worker that looks (Optuna's grace).
    public var heartbeatInterval: TimeInterval = 60
    /// Seconds a lost database (a server restarting, an SQLite file locked or unreadable) is
    /// waited for before the worker stops.
    public var storageTimeout: TimeInterval = 60
    /// Where a database storage's notes go (a lost and a restored connection).
    public var note: @Sendable (String) -> Void = { print($0) }
    /// Whether opening a database may create the study; when false, an absent study is refused.
    public var createsStudy = true

    public init(folder: String) { self.folder = folder }
}

/// A trial storage that a search opens by a URL's scheme (`file:///path/to/folder`,
/// `postgresql://…`, `sqlite:///…`). A new storage is one file with a type conforming here;
/// `Storages` finds it.
public protocol RegisteredStorage {
    /// The URL scheme that names it: "file".
    static var scheme: String { get }
    /// Opens the storage `url` names, for a worker whose files go where `options` says.
    static func open(url: String, options: TrialStorageOptions) throws -> TrialStorage
}

/// The trial storages, found at build time from the types conforming to `RegisteredStorage`.
public enum Storages {
    /// Every storage, by scheme.
    public static var all: [any RegisteredStorage.Type] { registered.sorted { $0.scheme < $1.scheme } }

    /// The storage of `scheme` ("file", "postgresql", "sqlite").
    public static func named(_ scheme: String) -> (any RegisteredStorage.Type)? { all.first { $0.scheme == scheme } }

    /// Every storage's scheme, in alphabetical order.
    public static var schemes: [String] { all.map { $0.scheme } }

    /// The scheme of `url`, without SQLAlchemy's driver ("postgresql+psycopg2://" → "postgresql").
    public static func scheme(of url: String) -> String {
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return scheme.split(separator: "+").first.map(String.init) ?? scheme
    }

    /// Opens the storage that `url`'s scheme names; a path without a scheme is a folder
    /// (`file://`).
    public static func open(url: String, options: TrialStorageOptions) throws -> TrialStorage {
        let scheme = url.contains("://") ? scheme(of: url) : FolderStorage.scheme
        guard let type = named(scheme) else {
            throw MLPError.setting("storage", problem: "'\(maskedURL(url))' is not a URL of a storage this toolchain opens "
                + "(known: \(schemes.map { $0 + "://" }.joined(separator: ", ")))")
        }
        return try type.open(url: url, options: options)
    }
}
