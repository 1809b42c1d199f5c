import Foundation

/// An RDB study's trials as Optuna's rows: a trial's record read from `trials` and the tables
/// beside it, and written back as the rows that changed, in Optuna 5's formats.
extension RDBStorage {

    /// Fails the study's running trials whose heartbeat is older than the grace, as Optuna's
    /// `fail_stale_trials` does; not those whose heartbeat this worker keeps (after an outage
    /// every heartbeat is old, and this worker knows its own trials are alive).
    func failStaleTrials() throws {
        // Once per half heartbeat interval is enough: a trial is stale only after two.
        let now = Date()
        if let last = lastSweep, now.timeIntervalSince(last) < heartbeatInterval / 2 { return }
        lastSweep = now
        let own = beating.isEmpty ? "" : " AND trial_id NOT IN (\(beating.sorted().map(String.init).joined(separator: ",")))"
        try connection.query("""
            UPDATE trials SET state = 'FAIL', datetime_complete = $3
            WHERE study_id = $1 AND state = 'RUNNING'\(own) AND trial_id IN (
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
        var values: [Int: Double] = [:]
        var intermediate: [Int: Double] = [:]
        var user: [String: JSONValue] = [:]
        var system: [String: JSONValue] = [:]
    }

    func readDetails(_ ids: Set<Int>) throws -> [Int: Details] {
        let list = ids.sorted().map(String.init).joined(separator: ",")
        // One round trip: each table's rows as (trial, kind, name, number, text).
        let rows = try connection.query("""
            SELECT trial_id, 'p', param_name, param_value, distribution_json FROM trial_params WHERE trial_id IN (\(list))
            UNION ALL SELECT trial_id, 'v', CAST(value_type AS TEXT), value, CAST(objective AS TEXT) FROM trial_values WHERE trial_id IN (\(list))
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
                guard let objective = row[4].text.flatMap({ Int($0) }) else { continue }
                details[id, default: Details()].values[objective] = Self.value(row[3], type: row[2].text)
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

    func makeRecord(number: Int, state: String, start: Date?, end: Date?, details: Details) -> TrialRecord {
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
        record.score = details.values[0]
        let settings = knownSettings
        let objectives = settings?.objectiveNames.count ?? 1
        if objectives > 1, (0..<objectives).allSatisfy({ details.values[$0] != nil }) {
            record.values = (0..<objectives).map { details.values[$0]! }
        }
        // Constraints as Optuna 5 keeps them ("constraints:NAME"), in the search's order.
        if let names = settings?.constraints {
            let values = names.compactMap { details.system["constraints:" + $0]?.number }
            if values.count == names.count { record.constraints = values }
        }
        record.parameterCount = details.user["parameter_count"]?.number.map { Int($0) }
        if case .array(let folds)? = details.user["fold_scores"] { record.foldScores = folds.compactMap(\.number) }
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

    @discardableResult
    public func write(_ record: TrialRecord) throws -> Bool {
        try transaction(lockingStudy: trialIDs[record.number] == nil) {
            let id: Int
            if let known = trialIDs[record.number] {
                id = known
                // A finished trial is never changed again (Python workers cache it for good): one
                // failed as stale while its worker was cut off stays failed.
                let lock = connection is PostgreSQLConnection ? " FOR UPDATE" : ""
                let row = try connection.query("SELECT state, datetime_complete FROM trials WHERE trial_id = $1\(lock)",
                                               .integer(Int64(id))).first
                let state = row?.first?.text
                guard state == "RUNNING" || state == "WAITING" else {
                    written[record.number] = nil
                    // This worker's own end, committed just before the database was lost: the
                    // same state, at the same microsecond.
                    let end = row.flatMap { $0.count == 2 ? $0[1].text.flatMap(Self.date) : nil }
                    if let end, let finished = record.runs.last?.finished, record.status != .running, record.status != .waiting,
                       state == Self.finalState(of: record), abs(end.timeIntervalSince(finished)) < 2e-6 { return true }
                    return false
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
            return true
        }
    }

    /// One INSERT of many rows, `$n`-numbered; the column at `enumColumn` holds an enum's name,
    /// written as a literal (PostgreSQL takes no text parameter for an enum column there).
    func insert(into target: String, _ rows: [[SQLValue]], _ conflict: String, enumColumn: Int? = nil) throws {
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
    func attributes(of record: TrialRecord) -> (user: [String: JSONValue], system: [String: JSONValue]) {
        var user: [String: JSONValue] = ["epochs": .int(record.epochs), "seed": .string(String(record.seed)), "worker": .string(worker),
                                         "host": .string(ProcessInfo.processInfo.hostName),
                                         "model": .string(URL(fileURLWithPath: folder.model(record.number)).standardizedFileURL.path)]
        if let bestEpoch = record.bestEpoch { user["best_epoch"] = .int(bestEpoch) }
        if record.status != .running { user["seconds"] = .double(record.seconds) }
        if let count = record.parameterCount { user["parameter_count"] = .int(count) }
        if let folds = record.foldScores { user["fold_scores"] = .array(folds.map { .double($0) }) }
        var system: [String: JSONValue] = record.prunerAttributes.mapValues { .double($0) }
        for (name, value) in zip(knownSettings?.constraints ?? [], record.constraints ?? []) { system["constraints:" + name] = .double(value) }
        if let reason = record.reason { system["fail_reason"] = .string(reason) }
        return (user, system)
    }

    /// A new running trial, numbered under the study's lock as Optuna numbers it, with its
    /// first heartbeat.
    func createTrial(number: Int, started: Date) throws -> Int {
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

    /// The state a finished trial's record ends in: a completed trial without a value, or with
    /// NaN, fails, as in Optuna.
    static func finalState(of record: TrialRecord) -> String {
        switch record.status {
        case .completed: record.score.map { !$0.isNaN } == true ? "COMPLETE" : "FAIL"
        case .pruned: record.score?.isNaN == true ? "FAIL" : "PRUNED"
        default: "FAIL"
        }
    }

    /// Ends a running trial (`write` checked that it still runs) with its state and value.
    func finish(_ record: TrialRecord, id: Int) throws {
        let state = Self.finalState(of: record)
        // One row per objective: the score alone, or every objective's value.
        let values = record.status == .completed ? record.values ?? record.score.map { [$0] } ?? [] : record.score.map { [$0] } ?? []
        if state != "FAIL" {
            for (objective, value) in values.enumerated() {
                let type = value == .infinity ? "INF_POS" : value == -.infinity ? "INF_NEG" : "FINITE"
                try connection.enqueue("""
                    INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, \(objective), $2, '\(type)')
                    ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, value_type = excluded.value_type
                    """, [.integer(Int64(id)), value.isFinite ? .double(value) : .null])
            }
        }
        try connection.enqueue("UPDATE trials SET state = '\(state)', datetime_complete = $2 WHERE trial_id = $1 AND state = 'RUNNING'",
                               [.integer(Int64(id)), .text(Self.timestamp(record.runs.last?.finished ?? Date()))])
        written[record.number] = nil
    }

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
