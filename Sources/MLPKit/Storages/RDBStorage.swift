import Foundation

/// A search kept in Optuna's own tables in a relational database (Optuna's `RDBStorage`), shared
/// with every worker that reaches it: `mlp-tune` workers on any machine, and Python workers
/// running `study.optimize` or `ask`/`tell` on the same study.
///
/// - The study is found or created by name; its search settings are a study system attribute
///   (`mlp_tune:search`), and its direction is the objective's.
/// - A trial is a row of `trials`, numbered under the study row's lock (as Optuna numbers it),
///   with its values in `trial_params` under Optuna's distributions, its per-epoch objective in
///   `trial_intermediate_values`, its score in `trial_values`, and its best epoch, seconds, host,
///   worker, epochs, seed and model path as user attributes. A pruner's records are system
///   attributes, named as Optuna's pruners name them.
/// - A trial enqueued from Python (`WAITING`, its values in the system attribute
///   `fixed_params`) is taken by the next free worker.
/// - A running trial's heartbeat is refreshed every `heartbeatInterval` seconds by the server's
///   clock; one older than twice that is failed by the next worker that reads the trials
///   (Optuna's `fail_stale_trials`), and the search goes on without it.
/// - Transactions are short and never span training; deadlocks and serialization failures are
///   run again.
/// - A lost database (a server restarting, an SQLite file locked or unreadable for a while) is
///   waited for, up to `storageTimeout` seconds from the loss, with one note when it is lost and
///   one when it is back. A trial training meanwhile goes on: its heartbeat and its pruner's
///   writes are tried again at their next turn, and what they could not write is written, in
///   order, once the database is back.
///
/// Each worker's models, histories and outputs stay in its own folder.
public final class RDBStorage: TrialStorage, @unchecked Sendable {
    public let folder: SearchFolder
    public let worker: String
    /// Twice the heartbeat interval: Optuna's grace before a silent trial is failed.
    public var timeout: TimeInterval { heartbeatInterval * 2 }
    public let heartbeatInterval: TimeInterval
    public let studyName: String
    public var settingsLocation: String { "study '\(studyName)' in \(connection.location)" }
    public var searchNoun: String { "this study" }
    public var remedy: String { "use another --study-name" }
    public var searchName: String { settingsLocation }
    public var newSearchLine: String { "new study '\(studyName)' in \(connection.location)" }
    public func recorded(_ what: String) -> String { "\(settingsLocation) has \(what)" }
    /// Each worker's models stay on its own machine.
    public var resumesPastTrials: Bool { false }
    private let workerFolder: String
    /// Each worker writes its own outputs, from the study's trials, outside the study's lock.
    public var sharesOutputs: Bool { false }

    let connection: SQLConnection
    let studyID: Int
    /// Seconds a lost database is waited for before the worker gives up.
    public let storageTimeout: TimeInterval
    /// Where the notes of a lost and a restored database go.
    private let note: @Sendable (String) -> Void
    /// When the database was lost and why, while it is.
    private var lostAt: (Date, String)?
    private let outageLock = NSLock()
    /// Set while a trial trains: a lost database fails at once, with `Unreachable`.
    private var training = false
    /// The trials whose heartbeat this worker keeps: alive, whatever their last heartbeat says.
    var beating: Set<Int> = []
    /// One statement at a time on the connection, from the worker's thread or a heartbeat's.
    private let mutex = NSRecursiveLock()
    var depth = 0
    /// Finished trials never change (Optuna caches them for good too): read once, by trial_id.
    var finished: [Int: TrialRecord] = [:]
    /// Each trial's row id by number, and what of each running trial this worker last wrote.
    var trialIDs: [Int: Int] = [:]
    var written: [Int: TrialRecord] = [:]
    /// The study's settings, and their space, once read or saved.
    var knownSettings: SearchRecord? {
        didSet { knownSpace = knownSettings.flatMap { try? SearchSpace(entries: $0.space.map { ($0.key, $0.value) }) } }
    }
    var knownSpace: SearchSpace?
    var lastSweep: Date?

    static let settingsKey = "mlp_tune:search"
    static let seedKey = "mlp_tune:seed"

    /// Opens (creating when absent) Optuna's tables in `connection`'s database and the study
    /// `studyName` in them.
    public init(connection: SQLConnection, options: TrialStorageOptions) throws {
        guard let name = options.studyName, !name.isEmpty, name.utf8.count <= 512 else {
            throw MLPError.setting("study_name", problem: "a database storage needs --study-name NAME (1 to 512 bytes)")
        }
        guard options.heartbeatInterval >= 1, options.heartbeatInterval <= 86_400 else {
            throw MLPError.setting("heartbeat_interval", problem: "must be 1 to 86400 seconds")
        }
        self.connection = connection
        studyName = name
        heartbeatInterval = options.heartbeatInterval
        storageTimeout = options.storageTimeout
        note = options.note
        folder = SearchFolder(options.folder)
        worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let location = connection.location
        func open() throws -> Int {
            try OptunaSchema.prepare(connection, postgres: connection is PostgreSQLConnection)
            if options.createsStudy {
                try connection.query("INSERT INTO studies (study_name) VALUES ($1) ON CONFLICT (study_name) DO NOTHING", .text(name))
            }
            guard let id = try connection.query("SELECT study_id FROM studies WHERE study_name = $1", .text(name)).first?.first?.int else {
                if !options.createsStudy { throw Absent() }
                throw SQLError(message: "cannot create the study '\(name)'")
            }
            return id
        }
        do {
            studyID = try open()
        } catch is Absent {
            throw MLPError.usage("--resume-only: there is no study '\(name)' in \(location) to go on with (its studies: "
                + ((try? connection.query("SELECT study_name FROM studies ORDER BY study_id").compactMap { $0.first?.text }) ?? [])
                    .prefix(5).map { "'\($0)'" }.joined(separator: ", ") + "); leave out --resume-only to start it")
        } catch let error as SQLError {
            throw MLPError.io(path: location, problem: error.message)
        }
        workerFolder = options.folder
    }

    /// A study that `--resume-only` asked for and the database does not hold.
    private struct Absent: Error {}

    /// Makes this worker's folder, for its trials' models and the outputs.
    public func prepare() throws { try FolderStorage.prepare(folder: workerFolder) }

    public func costLine(trials: Int) -> String? {
        guard trials > 0 else { return nil }
        return "database: \(counted(trials, "trial")) run by this worker, " + String(format: "%.1f", databaseSeconds * 1000 / Double(trials))
            + " ms of database time a trial (waiting for the study's lock included)"
    }

    // MARK: Transactions

    /// Runs `body` on the connection, as one statement's or one transaction's worth of work;
    /// a database failure becomes one error naming the database. A lost database is waited for
    /// (`ridingOut`), unless `waiting` is false or a trial is training. Inside a transaction,
    /// failures go to the transaction as they are.
    func using<T>(waiting: Bool? = nil, _ body: () throws -> T) throws -> T {
        if isNested { return try body() }
        return try ridingOut(waiting: waiting ?? !training) {
            let started = DispatchTime.now().uptimeNanoseconds
            mutex.lock()
            defer { mutex.unlock() }
            let counted = Thread.isMainThread
            defer { if counted { databaseSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 } }
            do {
                return try body()
            } catch let error as SQLError where !error.connectionLost {
                throw failure(error)
            }
        }
    }

    /// Whether this thread is inside one of this storage's transactions.
    private var isNested: Bool {
        mutex.lock()
        defer { mutex.unlock() }
        return depth > 0
    }

    /// The database could not be reached while a trial trains: what was to be written waits
    /// for the next turn.
    struct Unreachable: Error {}

    /// Runs `attempt` until it no longer fails by losing the database. A loss is tried again
    /// after 0.25 s, then twice as long each time up to 2 s, until `storageTimeout` has passed
    /// since the database was lost; then its error ends the worker, as one line. Without
    /// `waiting`, a loss fails at once with `Unreachable`.
    func ridingOut<T>(waiting: Bool, _ attempt: () throws -> T) throws -> T {
        var delay = 0.25
        while true {
            do {
                let result = try attempt()
                reached()
                return result
            } catch let error as SQLError where error.connectionLost {
                let (since, first) = lost(error)
                guard waiting else { throw Unreachable() }
                let waited = Date().timeIntervalSince(since)
                guard waited + delay <= storageTimeout else {
                    throw MLPError.io(path: connection.location, problem: "\(first); waited \(Int(waited.rounded())) s for it "
                        + "(--storage-timeout \(Self.seconds(storageTimeout)))")
                }
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 2)
            }
        }
    }

    /// Notes the loss of the database, once an outage; when it was lost, and why.
    private func lost(_ error: SQLError) -> (Date, String) {
        outageLock.lock()
        defer { outageLock.unlock() }
        if let lostAt { return lostAt }
        let now = Date()
        lostAt = (now, error.message)
        note("note: the connection to \(connection.location) was lost at \(Self.clock(now)) (\(error.message)); training goes on, "
             + "and what is to be written waits, up to \(Self.seconds(storageTimeout)) s")
        return (now, error.message)
    }

    /// Notes the database's return after an outage.
    private func reached() {
        outageLock.lock()
        defer { outageLock.unlock() }
        guard let since = lostAt?.0 else { return }
        lostAt = nil
        let now = Date()
        note("note: the connection to \(connection.location) is back at \(Self.clock(now)), after "
             + String(format: "%.1f", now.timeIntervalSince(since)) + " s")
    }

    /// "60", "2.5": seconds as given.
    static func seconds(_ value: TimeInterval) -> String { value == value.rounded() ? String(Int(value)) : String(value) }

    /// "14:03:27", local time.
    static func clock(_ date: Date) -> String {
        var whole = time_t(date.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&whole, &parts)
        return String(format: "%02d:%02d:%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Runs `body` (a trial's writes while it trains) without waiting for a lost database: nil
    /// when it could not be reached, and what `body` was to write is written at its next turn.
    public func duringTraining<T>(_ body: () throws -> T) throws -> T? {
        training = true
        defer { training = false }
        do {
            return try body()
        } catch is Unreachable {
            return nil
        }
    }

    /// A database failure as one error naming the database (and the study, unless the
    /// connection itself was lost).
    func failure(_ error: SQLError) -> MLPError {
        MLPError.io(path: connection.location, problem: error.connectionLost ? error.message : "study '\(studyName)': \(error.message)")
    }

    /// Seconds this worker's thread has spent on the database: waiting for the study's lock,
    /// and in its transactions (heartbeats, from their own thread, are not counted).
    public private(set) var databaseSeconds: TimeInterval = 0

    public func locked<T>(_ body: () throws -> T) throws -> T { try transaction(lockingStudy: true, body) }

    /// Runs `body` in one transaction, holding the study row's lock when `lockingStudy` (needed
    /// only to number a new trial; reading the trials and changing a running one need no more
    /// than their own rows); inside another transaction, in that one. A transaction cut by a
    /// lost database is run again from the start once it is back (`ridingOut`).
    func transaction<T>(lockingStudy: Bool, _ body: () throws -> T) throws -> T {
        if isNested { return try body() }
        return try ridingOut(waiting: !training) {
            let started = DispatchTime.now().uptimeNanoseconds
            mutex.lock()
            defer { mutex.unlock() }
            defer { databaseSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
            var attempt = 0
            while true {
                attempt += 1
                do {
                    try connection.beginLocked(study: lockingStudy ? studyID : nil)
                    depth += 1
                    defer { depth -= 1 }
                    // What this worker remembers of the database, as it was before the transaction.
                    let remembered = (trialIDs, written)
                    do {
                        let result = try body()
                        try connection.commit()
                        return result
                    } catch {
                        connection.rollback()
                        (trialIDs, written) = remembered
                        throw error
                    }
                } catch let error as SQLError where error.connectionLost {
                    throw error
                } catch let error as SQLError where error.isRetryable && undecided {
                    // Part of a decision taken without the lock: the decision is taken again.
                    throw error
                } catch let error as SQLError where error.isRetryable && attempt < 20 {
                    // A deadlock or serialization failure: the whole decision is taken again.
                    finished.removeAll()
                    usleep(UInt32.random(in: 10_000...(20_000 * UInt32(attempt))))
                } catch let error as SQLError {
                    throw failure(error)
                }
            }
        }
    }

    /// Set while a decision runs without the lock: a write that finds another worker was first
    /// gives its failure to `deciding`, which takes the whole decision again.
    private var undecided = false

    /// Runs a decision without holding the study's lock: its reads are statements of their own,
    /// and its writes are transactions that check what it rests on (`createTrial` the new
    /// trial's number, under the study's lock only for that insert; `claim` the enqueued trial's
    /// state). When another worker was first, the decision is taken again from fresh reads.
    public func deciding<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            undecided = true
            defer { undecided = false }
            do {
                return try body()
            } catch let error as SQLError where error.isRetryable && attempt < 50 {
                usleep(UInt32.random(in: 200...(1_000 * UInt32(min(attempt, 20)))))
            } catch let error as SQLError {
                throw failure(error)
            }
        }
    }

    // MARK: Settings

    private func studyAttribute(_ key: String) throws -> String? {
        try connection.query("SELECT value_json FROM study_system_attributes WHERE study_id = $1 AND key = $2",
                             .integer(Int64(studyID)), .text(key)).first?.first?.text
    }

    private func setStudyAttribute(_ key: String, _ json: String) throws {
        try connection.query("""
            INSERT INTO study_system_attributes (study_id, key, value_json) VALUES ($1, $2, $3)
            ON CONFLICT (study_id, key) DO UPDATE SET value_json = excluded.value_json
            """, .integer(Int64(studyID)), .text(key), .text(json))
    }

    public func settings() throws -> SearchRecord? {
        try using {
            guard let text = try studyAttribute(Self.settingsKey) else { return nil }
            let record = try SearchRecord.read(Data(text.utf8), path: settingsLocation)
            knownSettings = record
            return record
        }
    }

    public func saveSettings(_ settings: SearchRecord) throws {
        try locked {
            let wanted = settings.objectiveNames.map { Monitor($0).mode == .max ? "MAXIMIZE" : "MINIMIZE" }
            let directions = try connection.query("SELECT direction FROM study_directions WHERE study_id = $1 ORDER BY objective",
                                                  .integer(Int64(studyID))).compactMap { $0.first?.text }
            if directions.isEmpty {
                for (objective, direction) in wanted.enumerated() {
                    try connection.query("INSERT INTO study_directions (direction, study_id, objective) VALUES ('\(direction)', $1, \(objective))",
                                         .integer(Int64(studyID)))
                }
            } else if directions != wanted {
                throw MLPError.format(path: settingsLocation, problem: "the study's directions are \(directions.joined(separator: ", ")); "
                    + "\(settings.objectiveNames.joined(separator: ", ")) \(wanted.count == 1 ? "is" : "are") to "
                    + "\(wanted.map { $0.lowercased() }.joined(separator: ", ")): give another --objective or another --study-name")
            }
            try setStudyAttribute(Self.settingsKey, try JSONRecords.text(settings))
            knownSettings = settings
        }
    }

    public func agreedSeed(_ given: UInt64?) throws -> UInt64 {
        try locked {
            var recorded = try settings().flatMap { UInt64($0.seed) }
            if recorded == nil, let text = try studyAttribute(Self.seedKey) {
                guard let seed = UInt64(text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))) else {
                    throw MLPError.format(path: settingsLocation, problem: "\(Self.seedKey) is not a seed (a whole number)")
                }
                recorded = seed
            }
            if let recorded {
                if let given, given != recorded { throw seedRefusal(given: given, recorded: recorded) }
                return recorded
            }
            let seed = given ?? UInt64.random(in: 0...UInt64(UInt32.max))
            try setStudyAttribute(Self.seedKey, "\"\(seed)\"")
            return seed
        }
    }

    // MARK: Claims

    /// A running trial's worker is alive: those that went silent were failed when the records
    /// were read. The retraining is every machine's own.
    public func isClaimed(_ claim: Claim) -> Bool {
        if case .trial = claim { return true }
        return false
    }

    /// Takes an enqueued trial, unless another worker (Python's included) took it first.
    public func claim(_ claim: Claim) throws {
        guard case .trial(let number) = claim else { return }
        try AtomicFile.makeFolder(folder.trial(number))
        guard let id = trialIDs[number] else { return }
        try locked {
            try connection.query("UPDATE trials SET state = 'RUNNING', datetime_start = $2 WHERE trial_id = $1 AND state = 'WAITING'",
                                 .integer(Int64(id)), .text(Self.timestamp(Date())))
            // Another worker took it since the trials were read: the decision is taken again.
            guard connection.changes == 1 else { throw SQLError(state: "40001", message: "trial \(number) was taken by another worker") }
            try connection.query("""
                INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES ($1, \(connection.now))
                ON CONFLICT (trial_id) DO UPDATE SET heartbeat = excluded.heartbeat
                """, .integer(Int64(id)))
        }
    }

    /// Gives up a trial this worker stopped before its end (an interruption): it ends FAIL, as
    /// Optuna ends a trial interrupted by Ctrl-C.
    public func release(_ claim: Claim) {
        guard case .trial(let number) = claim, let id = trialIDs[number], written[number] != nil else { return }
        _ = try? locked {
            try connection.query("UPDATE trials SET state = 'FAIL', datetime_complete = $2 WHERE trial_id = $1 AND state = 'RUNNING'",
                                 .integer(Int64(id)), .text(Self.timestamp(Date())))
            try connection.query("""
                INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, 'fail_reason', '"interrupted"')
                ON CONFLICT (trial_id, key) DO NOTHING
                """, .integer(Int64(id)))
            written[number] = nil
        }
    }

    /// Refreshes the trial's heartbeat every `heartbeatInterval` seconds; while the database
    /// is lost, each turn tries once, so that the heartbeat resumes when the database does.
    public func heartbeat(_ claim: Claim) -> Heartbeat {
        guard case .trial(let number) = claim, let id = trialIDs[number] else { return NoHeartbeat() }
        mutex.lock()
        beating.insert(id)
        mutex.unlock()
        let beat = RepeatingHeartbeat(interval: heartbeatInterval, first: false) { [self] in
            _ = try? using(waiting: false) {
                try connection.query("UPDATE trial_heartbeats SET heartbeat = \(connection.now) WHERE trial_id = $1", .integer(Int64(id)))
            }
        }
        return StoppingHeartbeat { [self] in
            beat.stop()
            mutex.lock()
            beating.remove(id)
            mutex.unlock()
        }
    }

}

/// Nothing to keep alive.
final class NoHeartbeat: Heartbeat {
    func stop() {}
}

/// A heartbeat that also runs `stopped` when stopped.
final class StoppingHeartbeat: Heartbeat {
    private let stopped: () -> Void
    init(_ stopped: @escaping () -> Void) { self.stopped = stopped }
    func stop() { stopped() }
}
