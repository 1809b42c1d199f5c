import Foundation

/// The search as an Optuna journal (`optuna-journal.log` in the search's folder), the file
/// format of Optuna's `JournalFileBackend` (as Optuna 5.0 writes it): one study named after the
/// folder, one Optuna trial per trial with its distributions and values, its per-epoch values as
/// intermediate values, its score as the value, and the rest (best epoch, epochs, seconds,
/// Hyperband's slot, why it failed) as user attributes. `optuna.load_study` and
/// `optuna-dashboard` read it, live.
///
/// Optuna numbers trials by the order of their creation lines, so the journal is only ever
/// appended to, under the search's lock, in trial order: `sync` appends what the records hold
/// and the journal does not yet, and so mends a journal that a killed worker left behind. The
/// journal as this worker last wrote it is kept, and read again only when another worker has
/// changed the file.
final class OptunaJournal {
    let settings: TuningSettings
    let folder: SearchFolder
    let worker: String
    private var known: (file: FileIdentity, text: String, state: State)?

    init(settings: TuningSettings, folder: SearchFolder, worker: String) {
        self.settings = settings
        self.folder = folder
        self.worker = worker
    }

    var path: String { folder.journal }

    /// What the journal holds so far.
    struct State {
        var hasStudy = false, created = 0, ended = Set<Int>()
    }

    /// Optuna's op codes.
    enum Operation: Int, Codable {
        case createStudy = 0, setStudySystemAttribute = 3, createTrial = 4, setParameter = 5, setStateValues = 6, setIntermediateValue = 7, setUserAttribute = 8
        case setSystemAttribute = 9
    }

    /// One line of the journal: an operation and its fields, as Optuna's journal storage writes them.
    struct Line: Codable {
        var operation: Operation
        var workerID: String?
        var studyName: String?
        var directions: [Int]?
        var studyID: Int?
        var systemAttributes: [String: JSONValue]?
        var trialID: Int?
        var started: String?
        var parameterName: String?
        var parameterValue: Double?
        var distribution: String?
        var state: Int?
        var values: [Double]?
        var completed: String?
        var step: Int?
        var intermediateValue: Double?
        var userAttributes: [String: JSONValue]?

        init(_ operation: Operation) { self.operation = operation }

        enum CodingKeys: String, CodingKey {
            case operation = "op_code", workerID = "worker_id", studyName = "study_name", directions, studyID = "study_id"
            case systemAttributes = "system_attr", trialID = "trial_id", started = "datetime_start", parameterName = "param_name"
            case parameterValue = "param_value_internal", distribution, state, values, completed = "datetime_complete", step
            case intermediateValue = "intermediate_value", userAttributes = "user_attr"
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(operation, forKey: .operation)
            try container.encodeIfPresent(workerID, forKey: .workerID)
            try container.encodeIfPresent(studyName, forKey: .studyName)
            try container.encodeIfPresent(directions, forKey: .directions)
            try container.encodeIfPresent(studyID, forKey: .studyID)
            try container.encodeIfPresent(systemAttributes, forKey: .systemAttributes)
            try container.encodeIfPresent(trialID, forKey: .trialID)
            try container.encodeIfPresent(started, forKey: .started)
            try container.encodeIfPresent(parameterName, forKey: .parameterName)
            try container.encodeIfPresent(parameterValue, forKey: .parameterValue)
            try container.encodeIfPresent(distribution, forKey: .distribution)
            try container.encodeIfPresent(state, forKey: .state)
            // A trial's end names its values, or null for a failed trial.
            if state != nil { try container.encode(values, forKey: .values) }
            try container.encodeIfPresent(completed, forKey: .completed)
            try container.encodeIfPresent(step, forKey: .step)
            try container.encodeIfPresent(intermediateValue, forKey: .intermediateValue)
            try container.encodeIfPresent(userAttributes, forKey: .userAttributes)
        }
    }

    /// Appends what the journal lacks of `records`; call it under the search's lock.
    func sync(_ records: [TrialRecord]) throws {
        var (text, state) = try current()
        var lines: [Line] = []
        if !state.hasStudy {
            var study = Line(.createStudy)
            study.studyName = URL(fileURLWithPath: folder.path).lastPathComponent
            let objectives = settings.objectives.objectives
            study.directions = objectives.map { $0.mode == .max ? 2 : 1 }
            // The objectives' names, where Optuna's study.set_metric_names keeps them.
            var metric = Line(.setStudySystemAttribute)
            metric.studyID = 0
            metric.systemAttributes = ["study:metric_names": .array(objectives.map { .string($0.name) })]
            lines += [study, metric]
            state.hasStudy = true
        }
        for record in records.sorted(by: { $0.number < $1.number }) {
            if record.number == state.created {
                lines += creation(of: record)
                state.created += 1
            }
            guard record.number < state.created, record.status != .running, !state.ended.contains(record.number) else { continue }
            lines += ending(of: record)
            state.ended.insert(record.number)
        }
        guard !lines.isEmpty else { return }
        for index in lines.indices { lines[index].workerID = worker }
        text += try lines.map { try JSONRecords.text($0) + "\n" }.joined()
        try AtomicFile.write(Data(text.utf8), to: path)
        if let identity = FileIdentity(path: path) { known = (identity, text, state) }
    }

    /// The journal's text and what it holds: as this worker last wrote it when the file is
    /// unchanged, else read from the file. A line cut short (a worker killed mid-write) is
    /// dropped, as Optuna's reader skips it; a line that is not an Optuna operation (a damaged
    /// file) would stop Optuna's reader, and the lines after it could name the wrong trials: the
    /// journal is then rebuilt whole from the trial records.
    private func current() throws -> (String, State) {
        guard let identity = FileIdentity(path: path) else { return ("", State()) }
        if let known, known.file == identity { return (known.text, known.state) }
        var text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if let end = text.lastIndex(of: "\n") { text = String(text[...end]) } else { text = "" }
        var state = State()
        let decoder = JSONRecords.decoder()
        for line in text.split(separator: "\n") {
            guard let parsed = try? decoder.decode(Line.self, from: Data(line.utf8)) else { return ("", State()) }
            switch parsed.operation {
            case .createStudy: state.hasStudy = true
            case .createTrial: state.created += 1
            case .setStateValues:
                if let trial = parsed.trialID, (parsed.state ?? 0) != 0 { state.ended.insert(trial) }
            default: break
            }
        }
        return (text, state)
    }

    func creation(of record: TrialRecord) -> [Line] {
        var start = Line(.createTrial)
        start.studyID = 0
        start.started = Self.timestamp(record.runs.first?.started ?? Date())
        var lines = [start]
        for (key, distribution) in settings.space.entries {
            guard let value = record.hyperparameters[key], let (stored, description) = distribution.optuna(value) else { continue }
            var parameter = Line(.setParameter)
            parameter.trialID = record.number
            parameter.parameterName = key
            parameter.parameterValue = stored
            parameter.distribution = description
            lines.append(parameter)
        }
        return lines
    }

    func ending(of record: TrialRecord) -> [Line] {
        var lines: [Line] = []
        for (epoch, value) in intermediateValues(of: record) {
            var line = Line(.setIntermediateValue)
            (line.trialID, line.step, line.intermediateValue) = (record.number, epoch, value)
            lines.append(line)
        }
        var attributes: [String: JSONValue] = ["epochs": .int(record.epochs), "seconds": .double(record.seconds)]
        if let bestEpoch = record.bestEpoch { attributes["best_epoch"] = .int(bestEpoch) }
        if let reason = record.reason { attributes["reason"] = .string(reason) }
        if let slot = record.slot {
            attributes["hyperband"] = .object(["iteration": .int(slot.iteration), "bracket": .int(slot.bracket), "round": .int(slot.round)])
        }
        if let past = record.pastTrial { attributes["past_trial"] = .int(past) }
        if let count = record.parameterCount { attributes["parameter_count"] = .int(count) }
        if let folds = record.foldScores { attributes["fold_scores"] = .array(folds.map { .double($0) }) }
        // One attribute a line: Optuna's reader takes no more.
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            var line = Line(.setUserAttribute)
            (line.trialID, line.userAttributes) = (record.number, [name: value])
            lines.append(line)
        }
        // Constraints as Optuna 5's trial.set_constraint keeps them: "constraints:NAME".
        for (constraint, value) in zip(settings.objectives.constraints, record.constraints ?? []) {
            var line = Line(.setSystemAttribute)
            (line.trialID, line.systemAttributes) = (record.number, ["constraints:" + constraint.text: .double(value)])
            lines.append(line)
        }
        let values = settings.objectives.values(of: record)
        let scored = record.score.map(\.isFinite) == true && values?.allSatisfy(\.isFinite) == true
        var end = Line(.setStateValues)
        end.trialID = record.number
        // Optuna's states: COMPLETE 1, PRUNED 2 (its last value, when finite), FAIL 3.
        switch record.status {
        case .completed where scored: (end.state, end.values) = (1, values)
        case .pruned: (end.state, end.values) = (2, scored ? [record.score!] : nil)
        default: end.state = 3
        }
        end.completed = Self.timestamp(record.runs.last?.finished ?? Date())
        lines.append(end)
        return lines
    }

    /// The objective at each epoch of the trial, from its `history.csv` (epochs counted from 0,
    /// from the start of the trial it went on from); for a cross-validated trial, the running
    /// mean after each fold.
    func intermediateValues(of record: TrialRecord) -> [(Int, Double)] {
        if record.foldScores != nil { return record.intermediateValues.sorted { $0.key < $1.key }.filter { $0.value.isFinite }.map { ($0.key, $0.value) } }
        guard let data = FileManager.default.contents(atPath: folder.history(record.number)) else { return [] }
        let rows = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = rows.first, let epochColumn = header.firstIndex(of: "epoch"),
              let valueColumn = header.firstIndex(where: { $0 == settings.objective.name }) else { return [] }
        return rows.dropFirst().compactMap { row in
            guard row.count == header.count, let epoch = Int(row[epochColumn]), let value = Double(row[valueColumn]), value.isFinite
            else { return nil }
            return (epoch, value)
        }
    }

    /// "2026-11-29T03:57:44.954284+00:00".
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        let micro = Int((date.timeIntervalSince1970 * 1_000_000).truncatingRemainder(dividingBy: 1_000_000))
        return formatter.string(from: date) + String(format: ".%06d+00:00", max(micro, 0))
    }
}
