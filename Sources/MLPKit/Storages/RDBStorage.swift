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
    public func recorded(_ what: String) -> String { "\(settingsLocation) has \(what)" }
    /// Each worker's models stay on its own machine.
    public var resumesPastTrials: Bool { false }
    private let workerFolder: String
    /// Each worker writes its own outputs, from the study's trials, outside the study's lock.
    public var sharesOutputs: Bool { false }

    private let connection: SQLConnection
    private let studyID: Int
    /// One statement at a time on the connection, from the worker's thread or a heartbeat's.
    private let mutex = NSRecursiveLock()
    private var depth = 0
    /// Finished trials never change (Optuna caches them for good too): read once, by trial_id.
    private var finished: [Int: TrialRecord] = [:]
    /// Each trial's row id by number, and what of each running trial this worker last wrote.
    private var trialIDs: [Int: Int] = [:]
    private var written: [Int: TrialRecord] = [:]
    /// The study's settings, and their space, once read or saved.
    private var knownSettings: SearchRecord? {
        didSet { knownSpace = knownSettings.flatMap { try? SearchSpace(entries: $0.space.map { ($0.key, $0.value) }) } }
    }
    private var knownSpace: SearchSpace?
    private var lastSweep: Date?

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
        folder = SearchFolder(options.folder)
        worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let location = connection.location
        func open() throws -> Int {
            try OptunaSchema.prepare(connection, postgres: connection is PostgreSQLConnection)
            try connection.query("INSERT INTO studies (study_name) VALUES ($1) ON CONFLICT (study_name) DO NOTHING", .text(name))
            guard let id = try connection.query("SELECT study_id FROM studies WHERE study_name = $1", .text(name)).first?.first?.int else {
                throw SQLError(message: "cannot create the study '\(name)'")
            }
            return id
        }
        do {
            studyID = try open()
        } catch let error as SQLError {
            throw MLPError.io(path: location, problem: error.message)
        }
        workerFolder = options.folder
    }

    /// Makes this worker's folder, for its trials' models and the outputs.
    public func prepare() throws { try FolderStorage.prepare(folder: workerFolder) }

    public func costLine(trials: Int) -> String? {
        guard trials > 0 else { return nil }
        return "database: \(counted(trials, "trial")) run by this worker, " + String(format: "%.1f", databaseSeconds * 1000 / Double(trials))
            + " ms of database time a trial (waiting for the study's lock included)"
    }

    // MARK: Transactions

    /// Runs `body` on the connection, as one statement's or one transaction's worth of work;
    /// a database failure becomes one error naming the database.
    private func using<T>(_ body: () throws -> T) throws -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        mutex.lock()
        defer { mutex.unlock() }
        let counted = Thread.isMainThread && depth == 0
        defer { if counted { databaseSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 } }
        do {
            return try body()
        } catch let error as SQLError {
            throw failure(error)
        }
    }

    /// A database failure as one error naming the database (and the study, unless the
    /// connection itself was lost).
    private func failure(_ error: SQLError) -> MLPError {
        MLPError.io(path: connection.location, problem: error.connectionLost ? error.message : "study '\(studyName)': \(error.message)")
    }

    /// Seconds this worker's thread has spent on the database: waiting for the study's lock,
    /// and in its transactions (heartbeats, from their own thread, are not counted).
    public private(set) var databaseSeconds: TimeInterval = 0

    public func locked<T>(_ body: () throws -> T) throws -> T { try transaction(lockingStudy: true, body) }

    /// Runs `body` in one transaction, holding the study row's lock when `lockingStudy` (needed
    /// only to number a new trial; reading the trials and changing a running one need no more
    /// than their own rows); inside another transaction, in that one.
    private func transaction<T>(lockingStudy: Bool, _ body: () throws -> T) throws -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        mutex.lock()
        defer { mutex.unlock() }
        if depth > 0 { return try body() }
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
            let direction = Monitor(settings.objective).mode == .max ? "MAXIMIZE" : "MINIMIZE"
            let directions = try connection.query("SELECT direction FROM study_directions WHERE study_id = $1 ORDER BY objective",
                                                  .integer(Int64(studyID))).compactMap { $0.first?.text }
            if directions.isEmpty {
                try connection.query("INSERT INTO study_directions (direction, study_id, objective) VALUES ('\(direction)', $1, 0)",
                                     .integer(Int64(studyID)))
            } else if directions != [direction] {
                throw MLPError.format(path: settingsLocation, problem: "the study's directions are \(directions.joined(separator: ", ")); "
                    + "\(settings.objective) is to \(direction.lowercased()): give another --objective or another --study-name")
            }
            try setStudyAttribute(Self.settingsKey, try JSONRecords.text(settings))
            knownSettings = settings
        }
    }

    public func agreedSeed(_ given: UInt64?) throws -> UInt64 {
        try locked {
            if let given { return given }
            if let recorded = try settings().flatMap({ UInt64($0.seed) }) { return recorded }
            if let text = try studyAttribute(Self.seedKey) {
                guard let seed = UInt64(text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))) else {
                    throw MLPError.format(path: settingsLocation, problem: "\(Self.seedKey) is not a seed (a whole number)")
                }
                return seed
            }
            let seed = UInt64.random(in: 0...UInt64(UInt32.max))
            try setStudyAttribute(Self.seedKey, "\"\(seed)\"")
            return seed
        }
    }

    // MARK: Records

    /// Fails the study's running trials whose heartbeat is older than the grace, as Optuna's
    /// `fail_stale_trials` does.
    private func failStaleTrials() throws {
        // Once per half heartbeat interval is enough: a trial is stale only after two.
        let now = Date()
        if let last = lastSweep, now.timeIntervalSince(last) < heartbeatInterval / 2 { return }
        lastSweep = now
        try connection.query("""
            UPDATE trials SET state = 'FAIL', datetime_complete = $3
            WHERE study_id = $1 AND state = 'RUNNING' AND trial_id IN (
              SELECT trial_id FROM trial_heartbeats WHERE heartbeat < \(connection.secondsAgo(parameter: 2)))
            """, .integer(Int64(studyID)), .double(timeout), .text(Self.timestamp(Date())))
    }

    public func records() throws -> [TrialRecord] {
        // Read in statements of their own where no transaction is open: a trial that ends
        // between them shows its new rows with its old state, and is read again next time.
        let read = { [self] () throws -> [TrialRecord] in
            try failStaleTrials()
            let rows = try connection.query("""
                SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials
                WHERE study_id = $1 AND number IS NOT NULL ORDER BY number
                """, .integer(Int64(studyID)))
            var pending: [(id: Int, number: Int, state: String, start: Date?, end: Date?)] = []
            var records: [Int: TrialRecord] = [:]
            for row in rows {
                guard row.count == 5, let id = row[0].int, let number = row[1].int, let state = row[2].text else { continue }
                trialIDs[number] = id
                if let cached = finished[id] {
                    records[number] = cached
                } else {
                    pending.append((id, number, state, row[3].text.flatMap(Self.date), row[4].text.flatMap(Self.date)))
                }
            }
            if !pending.isEmpty {
                let details = try readDetails(Set(pending.map(\.id)))
                for trial in pending {
                    let record = makeRecord(number: trial.number, state: trial.state, start: trial.start, end: trial.end,
                                            details: details[trial.id] ?? Details())
                    records[trial.number] = record
                    if ["COMPLETE", "PRUNED", "FAIL"].contains(trial.state) { finished[trial.id] = record }
                }
            }
            return records.values.sorted { $0.number < $1.number }
        }
        return try depth > 0 ? transaction(lockingStudy: false, read) : using(read)
    }

    /// What a trial's other rows hold.
    struct Details {
        var parameters: [(name: String, value: Double, distribution: String)] = []
        var value: Double?
        var intermediate: [Int: Double] = [:]
        var user: [String: JSONValue] = [:]
        var system: [String: JSONValue] = [:]
    }

    private func readDetails(_ ids: Set<Int>) throws -> [Int: Details] {
        let list = ids.sorted().map(String.init).joined(separator: ",")
        // One round trip: each table's rows as (trial, kind, name, number, text).
        let rows = try connection.query("""
            SELECT trial_id, 'p', param_name, param_value, distribution_json FROM trial_params WHERE trial_id IN (\(list))
            UNION ALL SELECT trial_id, 'v', CAST(value_type AS TEXT), value, NULL FROM trial_values WHERE objective = 0 AND trial_id IN (\(list))
            UNION ALL SELECT trial_id, 'i', CAST(intermediate_value_type AS TEXT), intermediate_value, CAST(step AS TEXT)
              FROM trial_intermediate_values WHERE trial_id IN (\(list))
            UNION ALL SELECT trial_id, 'u', key, NULL, value_json FROM trial_user_attributes WHERE trial_id IN (\(list))
            UNION ALL SELECT trial_id, 's', key, NULL, value_json FROM trial_system_attributes WHERE trial_id IN (\(list))
            """)
        var details: [Int: Details] = [:]
        for row in rows {
            guard row.count == 5, let id = row[0].int, let kind = row[1].text else { continue }
            switch kind {
            case "p":
                guard let name = row[2].text, let value = row[3].double, let distribution = row[4].text else { continue }
                details[id, default: Details()].parameters.append((name, value, distribution))
            case "v":
                details[id, default: Details()].value = Self.value(row[3], type: row[2].text)
            case "i":
                guard let step = row[4].text.flatMap({ Int($0) }), let value = Self.value(row[3], type: row[2].text) else { continue }
                details[id, default: Details()].intermediate[step] = value
            default:
                guard let key = row[2].text, let text = row[4].text, let value = Self.json(text) else { continue }
                if kind == "s" { details[id, default: Details()].system[key] = value } else { details[id, default: Details()].user[key] = value }
            }
        }
        return details
    }

    /// A value column and its type column as a number: infinities and NaN are NULL plus a type.
    static func value(_ column: SQLValue, type: String?) -> Double? {
        switch type {
        case "INF_POS": return .infinity
        case "INF_NEG": return -.infinity
        case "NAN": return .nan
        default: return column.double
        }
    }

    /// JSON as Python's `json.dumps` writes it, NaN and Infinity included.
    static func json(_ text: String) -> JSONValue? {
        if let value = try? JSONRecords.decoder().decode(JSONValue.self, from: Data(text.utf8)) { return value }
        switch text {
        case "NaN": return .double(.nan)
        case "Infinity": return .double(.infinity)
        case "-Infinity": return .double(-.infinity)
        default: return nil
        }
    }

    private func makeRecord(number: Int, state: String, start: Date?, end: Date?, details: Details) -> TrialRecord {
        let space = knownSpace
        var values: [String: HyperValue] = [:]
        for parameter in details.parameters {
            guard let value = Self.hyperValue(parameter.value, distribution: parameter.distribution) else { continue }
            values[parameter.name] = value
        }
        if state == "WAITING", case .object(let fixed)? = details.system["fixed_params"] {
            for (name, json) in fixed { if let value = HyperValue(json: json) { values[name] = value } }
        }
        // Only the space's keys: a Python worker may suggest others.
        if let space { values = values.filter { key, _ in space.distribution(of: key) != nil } }
        let epochs = details.user["epochs"]?.number.map { Int($0) } ?? knownSettings?.algorithm.epochs ?? 1
        let seed = details.user["seed"].flatMap { value -> UInt64? in
            if case .string(let text) = value { return UInt64(text) }
            return nil
        } ?? 0
        var record = TrialRecord(number: number, hyperparameters: HyperparameterValues(values: values), epochs: max(epochs, 1), initialEpoch: 0, seed: seed)
        record.status = switch state {
        case "COMPLETE": .completed
        case "PRUNED": .pruned
        case "FAIL": .failed
        case "WAITING": .waiting
        default: .running
        }
        record.score = details.value
        record.bestEpoch = details.user["best_epoch"]?.number.map { Int($0) }
        record.seconds = details.user["seconds"]?.number ?? (start.flatMap { s in end.map { $0.timeIntervalSince(s) } } ?? 0)
        if case .string(let reason)? = details.system["fail_reason"] { record.reason = reason }
        record.intermediateValues = details.intermediate
        for (key, value) in details.system where key.hasPrefix("completed_rung_") {
            if let number = value.number { record.prunerAttributes[key] = number }
        }
        if let start {
            var worker = "python"
            if case .string(let name)? = details.user["worker"] { worker = name }
            record.runs = [TrialRecord.Run(worker: worker, started: start, finished: end)]
        }
        return record
    }

    /// A parameter's value from Optuna's internal form: the number for a float or int, the
    /// index of the choice for a categorical.
    static func hyperValue(_ stored: Double, distribution: String) -> HyperValue? {
        guard case .object(let object)? = json(distribution), case .string(let name)? = object["name"],
              case .object(let attributes)? = object["attributes"] else { return nil }
        switch name {
        case "FloatDistribution": return .double(stored)
        case "IntDistribution": return stored.isFinite ? .int(Int(stored)) : nil
        case "CategoricalDistribution":
            guard case .array(let choices)? = attributes["choices"], stored >= 0, Int(stored) < choices.count else { return nil }
            return HyperValue(json: choices[Int(stored)])
        default: return nil
        }
    }

    public func write(_ record: TrialRecord) throws {
        try transaction(lockingStudy: trialIDs[record.number] == nil) {
            let id: Int
            if let known = trialIDs[record.number] {
                id = known
                // A finished trial is never changed again (Python workers cache it for good): one
                // failed as stale while its worker was cut off stays failed.
                let lock = connection is PostgreSQLConnection ? " FOR UPDATE" : ""
                let state = try connection.query("SELECT state FROM trials WHERE trial_id = $1\(lock)", .integer(Int64(id))).first?.first?.text
                guard state == "RUNNING" || state == "WAITING" else {
                    written[record.number] = nil
                    return
                }
            } else {
                id = try createTrial(number: record.number, started: record.runs.last?.started ?? Date())
            }
            let before = written[record.number]
            let space = knownSpace
            if before?.hyperparameters != record.hyperparameters, let space {
                let rows = space.entries.compactMap { key, distribution -> [SQLValue]? in
                    guard let value = record.hyperparameters[key], let (stored, description) = distribution.optuna(value) else { return nil }
                    return [.integer(Int64(id)), .text(key), .double(stored), .text(description)]
                }
                try insert(into: "trial_params (trial_id, param_name, param_value, distribution_json)", rows,
                           "ON CONFLICT (trial_id, param_name) DO NOTHING")
            }
            let steps = record.intermediateValues.sorted(by: { $0.key < $1.key }).filter { before?.intermediateValues[$0.key] != $0.value }
            try insert(into: "trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type)", steps.map { step, value in
                let type = value.isNaN ? "NAN" : value == .infinity ? "INF_POS" : value == -.infinity ? "INF_NEG" : "FINITE"
                return [.integer(Int64(id)), .integer(Int64(step)), value.isFinite ? .double(value) : .null, .text(type)]
            }, "ON CONFLICT (trial_id, step) DO UPDATE SET intermediate_value = excluded.intermediate_value, "
                + "intermediate_value_type = excluded.intermediate_value_type", enumColumn: 3)
            let (user, system) = attributes(of: record)
            let previous = written[record.number].map { attributes(of: $0) }
            for (table, values, old) in [("trial_user_attributes", user, previous?.user), ("trial_system_attributes", system, previous?.system)] {
                let changed = values.sorted(by: { $0.key < $1.key }).filter { old?[$0.key] != $0.value }
                try insert(into: "\(table) (trial_id, key, value_json)", changed.map { [.integer(Int64(id)), .text($0.key), .text(Self.pythonJSON($0.value))] },
                           "ON CONFLICT (trial_id, key) DO UPDATE SET value_json = excluded.value_json")
            }
            written[record.number] = record
            if record.status != .running, record.status != .waiting { try finish(record, id: id) }
        }
    }

    /// One INSERT of many rows, `$n`-numbered; the column at `enumColumn` holds an enum's name,
    /// written as a literal (PostgreSQL takes no text parameter for an enum column there).
    private func insert(into target: String, _ rows: [[SQLValue]], _ conflict: String, enumColumn: Int? = nil) throws {
        guard !rows.isEmpty else { return }
        var parameters: [SQLValue] = []
        let tuples = rows.map { row -> String in
            "(" + row.enumerated().map { column, value -> String in
                if column == enumColumn, case .text(let name) = value, name.allSatisfy({ $0.isLetter || $0 == "_" }) { return "'\(name)'" }
                parameters.append(value)
                return "$\(parameters.count)"
            }.joined(separator: ", ") + ")"
        }
        try connection.enqueue("INSERT INTO \(target) VALUES \(tuples.joined(separator: ", ")) \(conflict)", parameters)
    }

    /// The attributes `write` records for `record`, to write only what changed.
    private func attributes(of record: TrialRecord) -> (user: [String: JSONValue], system: [String: JSONValue]) {
        var user: [String: JSONValue] = ["epochs": .int(record.epochs), "seed": .string(String(record.seed)), "worker": .string(worker),
                                         "host": .string(ProcessInfo.processInfo.hostName),
                                         "model": .string(URL(fileURLWithPath: folder.model(record.number)).standardizedFileURL.path)]
        if let bestEpoch = record.bestEpoch { user["best_epoch"] = .int(bestEpoch) }
        if record.status != .running { user["seconds"] = .double(record.seconds) }
        var system: [String: JSONValue] = record.prunerAttributes.mapValues { .double($0) }
        if let reason = record.reason { system["fail_reason"] = .string(reason) }
        return (user, system)
    }

    /// A new running trial, numbered under the study's lock as Optuna numbers it, with its
    /// first heartbeat.
    private func createTrial(number: Int, started: Date) throws -> Int {
        // Under the study's lock, the study's count of trials is the new trial's number.
        guard let row = try connection.query("""
            INSERT INTO trials (number, study_id, state, datetime_start)
            VALUES ((SELECT count(*) FROM trials WHERE study_id = $1), $1, 'RUNNING', $2) RETURNING trial_id, number
            """, .integer(Int64(studyID)), .text(Self.timestamp(started))).first, row.count == 2, let id = row[0].int else {
            throw SQLError(message: "cannot create a trial")
        }
        guard row[1].int == number else { throw SQLError(state: "40001", message: "another worker numbered a trial \(number) first") }
        try connection.enqueue("INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES ($1, \(connection.now))", [.integer(Int64(id))])
        trialIDs[number] = id
        return id
    }

    /// Ends a running trial (`write` checked that it still runs) with its state and value.
    private func finish(_ record: TrialRecord, id: Int) throws {
        var state = switch record.status {
        case .completed: "COMPLETE"
        case .pruned: "PRUNED"
        default: "FAIL"
        }
        if let score = record.score, state != "FAIL" {
            if score.isNaN {
                state = "FAIL"
            } else {
                let type = score == .infinity ? "INF_POS" : score == -.infinity ? "INF_NEG" : "FINITE"
                try connection.enqueue("""
                    INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, 0, $2, '\(type)')
                    ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, value_type = excluded.value_type
                    """, [.integer(Int64(id)), score.isFinite ? .double(score) : .null])
            }
        } else if state == "COMPLETE" {
            state = "FAIL"
        }
        try connection.enqueue("UPDATE trials SET state = '\(state)', datetime_complete = $2 WHERE trial_id = $1 AND state = 'RUNNING'",
                               [.integer(Int64(id)), .text(Self.timestamp(record.runs.last?.finished ?? Date()))])
        written[record.number] = nil
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

    public func heartbeat(_ claim: Claim) -> Heartbeat {
        guard case .trial(let number) = claim, let id = trialIDs[number] else { return NoHeartbeat() }
        return RepeatingHeartbeat(interval: heartbeatInterval, first: false) { [self] in
            _ = try? using {
                try connection.query("UPDATE trial_heartbeats SET heartbeat = \(connection.now) WHERE trial_id = $1", .integer(Int64(id)))
            }
        }
    }

    // MARK: Formats

    /// "2026-12-02 18:32:45.142767", UTC without a zone, as Optuna 5 stores times.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let micro = Int(((seconds - seconds.rounded(.down)) * 1_000_000).rounded(.down))
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micro)
    }

    /// A stored time ("2026-12-02 18:32:45.142767", the fraction optional, "T" taken too) as UTC.
    static func date(_ text: String) -> Date? {
        let parts = text.replacingOccurrences(of: "T", with: " ").split(whereSeparator: { " -:".contains($0) })
        guard parts.count >= 6, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              let hour = Int(parts[3]), let minute = Int(parts[4]), let second = Double(parts[5].prefix { $0 != "+" }) else { return nil }
        var time = tm()
        (time.tm_year, time.tm_mon, time.tm_mday) = (Int32(year - 1900), Int32(month - 1), Int32(day))
        (time.tm_hour, time.tm_min, time.tm_sec) = (Int32(hour), Int32(minute), 0)
        return Date(timeIntervalSince1970: Double(timegm(&time)) + second)
    }

    /// JSON as Python's `json.dumps` writes it: ", " and ": " between items, NaN and Infinity bare.
    static func pythonJSON(_ value: JSONValue) -> String {
        switch value {
        case .double(let v) where !v.isFinite: return v.isNaN ? "NaN" : v > 0 ? "Infinity" : "-Infinity"
        case .array(let items): return "[" + items.map(pythonJSON).joined(separator: ", ") + "]"
        case .object(let object):
            return "{" + object.sorted { $0.key < $1.key }.map { (try! JSONRecords.text(JSONValue.string($0.key))) + ": " + pythonJSON($0.value) }
                .joined(separator: ", ") + "}"
        default: return (try? JSONRecords.text(value)) ?? "null"
        }
    }
}

/// Nothing to keep alive.
final class NoHeartbeat: Heartbeat {
    func stop() {}
}
