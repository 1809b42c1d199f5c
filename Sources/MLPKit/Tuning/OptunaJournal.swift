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
/// and the journal does not yet, and so mends a journal that a killed worker left behind.
struct OptunaJournal {
    static let fileName = "optuna-journal.log"
    let settings: TuningSettings
    let store: TrialStore

    var path: String { store.folder + "/" + Self.fileName }

    /// Optuna's op codes.
    enum Operation: Int {
        case createStudy = 0, setStudySystemAttribute = 3, createTrial = 4, setParameter = 5, setStateValues = 6, setIntermediateValue = 7, setUserAttribute = 8
    }

    /// Appends what the journal lacks of `records`; call it under the store's lock.
    func sync(_ records: [TrialRecord]) throws {
        var text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        // A line cut short (a worker killed mid-write) is dropped; Optuna's readers skip it too.
        if let end = text.lastIndex(of: "\n") { text = String(text[...end]) } else { text = "" }
        var hasStudy = false, created = 0, ended = Set<Int>()
        // A line that is not an Optuna operation (a damaged file) would stop Optuna's reader, and
        // the lines after it could name the wrong trials: the journal is then rebuilt whole from
        // the trial records.
        var damaged = false
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let code = (object["op_code"] as? Int).flatMap(Operation.init(rawValue:)) else {
                damaged = true
                break
            }
            switch code {
            case .createStudy: hasStudy = true
            case .createTrial: created += 1
            case .setStateValues:
                if let trial = object["trial_id"] as? Int, (object["state"] as? Int ?? 0) != 0 { ended.insert(trial) }
            default: break
            }
        }
        if damaged { (text, hasStudy, created, ended) = ("", false, 0, []) }
        var lines: [[String: Any]] = []
        if !hasStudy {
            lines.append(["op_code": Operation.createStudy.rawValue, "study_name": URL(fileURLWithPath: store.folder).lastPathComponent,
                          "directions": [settings.objective.mode == .max ? 2 : 1]])
            // The objective's name, where Optuna's study.set_metric_names keeps it.
            lines.append(["op_code": Operation.setStudySystemAttribute.rawValue, "study_id": 0,
                          "system_attr": ["study:metric_names": [settings.objective.name]]])
        }
        for record in records.sorted(by: { $0.number < $1.number }) {
            if record.number == created {
                lines += creation(of: record)
                created += 1
            }
            guard record.number < created, record.status != .running, !ended.contains(record.number) else { continue }
            lines += ending(of: record)
        }
        guard !lines.isEmpty else { return }
        let appended = lines.map { line -> String in
            var entry = line
            entry["worker_id"] = store.worker
            return jsonText(entry) + "\n"
        }.joined()
        try AtomicFile.write(Data((text + appended).utf8), to: path)
    }

    func creation(of record: TrialRecord) -> [[String: Any]] {
        var lines: [[String: Any]] = [["op_code": Operation.createTrial.rawValue, "study_id": 0,
                                       "datetime_start": Self.timestamp(record.runs.first?.started ?? Date())]]
        for (key, distribution) in settings.space.entries {
            guard let value = record.hyperparameters[key], let (stored, description) = Self.optuna(distribution, value) else { continue }
            lines.append(["op_code": Operation.setParameter.rawValue, "trial_id": record.number, "param_name": key,
                          "param_value_internal": stored, "distribution": description])
        }
        return lines
    }

    func ending(of record: TrialRecord) -> [[String: Any]] {
        var lines: [[String: Any]] = []
        for (epoch, value) in intermediateValues(of: record) {
            lines.append(["op_code": Operation.setIntermediateValue.rawValue, "trial_id": record.number, "step": epoch,
                          "intermediate_value": value])
        }
        var attributes: [String: Any] = ["epochs": record.epochs, "seconds": record.seconds]
        if let bestEpoch = record.bestEpoch { attributes["best_epoch"] = bestEpoch }
        if let reason = record.reason { attributes["reason"] = reason }
        if let slot = record.slot { attributes["hyperband"] = ["iteration": slot.iteration, "bracket": slot.bracket, "round": slot.round] }
        if let past = record.pastTrial { attributes["past_trial"] = past }
        // One attribute a line: Optuna's reader takes no more.
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            lines.append(["op_code": Operation.setUserAttribute.rawValue, "trial_id": record.number, "user_attr": [name: value]])
        }
        let completed = record.status == .completed && record.score.map(\.isFinite) == true
        lines.append(["op_code": Operation.setStateValues.rawValue, "trial_id": record.number, "state": completed ? 1 : 3,
                      "values": completed ? [record.score!] : NSNull(),
                      "datetime_complete": Self.timestamp(record.runs.last?.finished ?? Date())])
        return lines
    }

    /// The objective at each epoch of the trial, from its `history.csv` (epochs counted from 0,
    /// from the start of the trial it went on from).
    func intermediateValues(of record: TrialRecord) -> [(Int, Double)] {
        guard let data = FileManager.default.contents(atPath: store.trialFolder(record.number) + "/history.csv") else { return [] }
        let rows = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard let header = rows.first, let epochColumn = header.firstIndex(of: "epoch"),
              let valueColumn = header.firstIndex(where: { $0 == settings.objective.name }) else { return [] }
        return rows.dropFirst().compactMap { row in
            guard row.count == header.count, let epoch = Int(row[epochColumn]), let value = Double(row[valueColumn]), value.isFinite
            else { return nil }
            return (epoch, value)
        }
    }

    /// A value's internal representation and its distribution, as Optuna spells them: floats and
    /// ints as floats, a choice as the index of the chosen value.
    static func optuna(_ distribution: Distribution, _ value: HyperValue) -> (Any, String)? {
        let description: [String: Any]
        let stored: Any
        switch distribution {
        case .logUniform(let low, let high), .uniform(let low, let high):
            guard let number = value.number else { return nil }
            stored = number
            description = ["name": "FloatDistribution",
                           "attributes": ["step": NSNull(), "low": low, "high": high, "log": distribution.isLogarithmic] as [String: Any]]
        case .int(let low, let high):
            guard let number = value.number else { return nil }
            stored = number
            description = ["name": "IntDistribution", "attributes": ["log": false, "step": 1, "low": low, "high": high] as [String: Any]]
        case .choice(let choices):
            guard let index = choices.firstIndex(of: value) else { return nil }
            stored = index
            description = ["name": "CategoricalDistribution", "attributes": ["choices": choices.map(\.json)]]
        }
        return (stored, jsonText(description))
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
