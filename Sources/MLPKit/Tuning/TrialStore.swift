import Foundation

/// One trial of a search, as its `trial.json` records it.
public struct TrialRecord: Sendable {
    /// Where the trial stands: a worker holds it (`running`), or it ended with a score or a reason.
    public enum Status: String, Sendable {
        case running, completed, failed
    }

    /// A worker's attempt at the trial.
    public struct Run: Sendable, Equatable {
        /// "host:pid:random", as `TrialStore.worker`.
        public var worker: String
        /// When the worker took the trial.
        public var started: Date
        /// nil while running, and for a run whose worker died.
        public var finished: Date?
    }

    /// The trial's number, from 0 in the order trials were decided (its folder's name).
    public var number: Int
    /// The trial's values, one per key of the space.
    public var hyperparameters: Hyperparameters
    public var status: Status
    /// The best value of the objective over the trial's epochs.
    public var score: Double?
    /// The epoch (counted from 1, from the trial's start when it went on from another) whose
    /// value is the score, and so whose weights `model.h5` holds.
    public var bestEpoch: Int?
    /// The epochs the trial trains to, and from (a promoted trial starts where its past trial
    /// ended).
    public var epochs: Int
    public var initialEpoch: Int
    /// Wall time of the run that completed it (or failed), in seconds.
    public var seconds: Double = 0
    /// Why it failed.
    public var reason: String?
    /// Hyperband's slot, and the trial it went on from.
    public var slot: Hyperband.Slot?
    public var pastTrial: Int?
    /// Seeds the trial's initial weights, dropout and shuffle.
    public var seed: UInt64
    /// Every worker's attempt, in order: more than one only when a worker died in it.
    public var runs: [Run] = []

    var json: [String: Any] {
        var object: [String: Any] = [
            "trial": number, "hyperparameters": hyperparameters.json, "status": status.rawValue, "epochs": epochs,
            "initial_epoch": initialEpoch, "seconds": seconds, "seed": String(seed),
            "runs": runs.map { run -> [String: Any] in
                var entry: [String: Any] = ["worker": run.worker, "started": run.started.timeIntervalSince1970]
                if let finished = run.finished { entry["finished"] = finished.timeIntervalSince1970 }
                return entry
            },
        ]
        if let score, score.isFinite { object["score"] = score }
        if let bestEpoch { object["best_epoch"] = bestEpoch }
        if let reason { object["reason"] = reason }
        if let slot { object["hyperband"] = ["iteration": slot.iteration, "bracket": slot.bracket, "round": slot.round] }
        if let pastTrial { object["past_trial"] = pastTrial }
        return object
    }

    /// A new trial, running, as a worker decides it (or a sampler's test imagines it).
    ///
    /// - Parameters:
    ///   - initialEpoch: where a promoted trial starts (0 for a new one).
    ///   - seed: the trial's own seed for its weights, dropout and shuffling.
    public init(number: Int, hyperparameters: Hyperparameters, epochs: Int, initialEpoch: Int, seed: UInt64) {
        self.number = number
        self.hyperparameters = hyperparameters
        status = .running
        self.epochs = epochs
        self.initialEpoch = initialEpoch
        self.seed = seed
    }

    init(json object: [String: Any], path: String) throws {
        func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }
        guard let number = object["trial"] as? Int, let values = object["hyperparameters"] as? [String: Any],
              let status = (object["status"] as? String).flatMap(Status.init(rawValue:)),
              let epochs = object["epochs"] as? Int, let initial = object["initial_epoch"] as? Int,
              let seed = (object["seed"] as? String).flatMap(UInt64.init) else {
            throw fail("not a trial record")
        }
        guard (0...1_000_000).contains(number) else { throw fail("trial number \(number) is outside 0 to 1000000") }
        guard (1...10_000).contains(epochs) else { throw fail("epochs \(epochs) is outside 1 to 10000") }
        guard (0..<epochs).contains(initial) else { throw fail("initial_epoch \(initial) is outside 0 to \(epochs - 1)") }
        var hyperparameters: [String: HyperValue] = [:]
        for (key, value) in values {
            guard let parsed = HyperValue(json: value) else { throw fail("hyperparameter '\(key)' is not a number, string or boolean") }
            // Each value within what its key allows, before any becomes a count or a size.
            do {
                try SearchSpace.check(key, .choice([parsed]))
            } catch MLPError.setting(let key, let problem) {
                throw fail("hyperparameter '\(key)': \(problem)")
            }
            hyperparameters[key] = parsed
        }
        self.number = number
        self.hyperparameters = Hyperparameters(values: hyperparameters)
        self.status = status
        self.epochs = epochs
        initialEpoch = initial
        self.seed = seed
        score = (object["score"] as? NSNumber)?.doubleValue
        bestEpoch = object["best_epoch"] as? Int
        seconds = (object["seconds"] as? NSNumber)?.doubleValue ?? 0
        reason = object["reason"] as? String
        if let slot = object["hyperband"] as? [String: Any], let iteration = slot["iteration"] as? Int,
           let bracket = slot["bracket"] as? Int, let round = slot["round"] as? Int {
            self.slot = Hyperband.Slot(iteration: iteration, bracket: bracket, round: round)
        }
        pastTrial = object["past_trial"] as? Int
        runs = (object["runs"] as? [[String: Any]] ?? []).compactMap { entry in
            guard let worker = entry["worker"] as? String, let started = (entry["started"] as? NSNumber)?.doubleValue else { return nil }
            return Run(worker: worker, started: Date(timeIntervalSince1970: started),
                       finished: (entry["finished"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) })
        }
    }
}

/// A search's folder, shared by every worker that runs it, on one machine or on several that
/// share the folder (as Optuna's file journal is): no server, only files.
///
/// - `search.json`: the search's settings, written by the first worker; a later worker with
///   other settings is refused.
/// - `trials/NNNN/trial.json`: each trial's record, replaced atomically (rename) on every change.
/// - `trials/NNNN/claim`: the worker running the trial; its modification time is the worker's
///   heartbeat, and a claim not refreshed within the timeout has expired, so the trial is run
///   again by whoever comes next.
/// - `lock`: held (created with O_EXCL, removed after) while a worker reads the records and
///   decides; a lock older than the timeout is broken, as its holder has died.
public final class TrialStore: @unchecked Sendable {
    /// The search's folder, as given.
    public let folder: String
    /// Seconds after which a claim or the lock that was not refreshed has expired.
    public let timeout: TimeInterval
    /// "host:pid:random", this worker's name in claims and runs.
    public let worker: String

    /// Opens `folder` for a search, creating it (and its marker) when new; refuses a file, or a
    /// folder holding files that are not a search's.
    ///
    /// - Parameters:
    ///   - timeout: seconds after which a claim or the lock that was not refreshed has expired.
    public init(folder: String, timeout: TimeInterval = 60) throws {
        self.folder = folder
        self.timeout = timeout
        worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw MLPError.io(path: folder, problem: "is a file, not a folder for a search") }
            // Only a folder that is empty or holds a search: never over files mlp-tune did not write.
            let contents = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
            if !contents.isEmpty, !contents.contains(Self.markerName), !contents.contains("search.json") {
                throw MLPError.io(path: folder, problem: "holds files that are not a search's (\(contents.sorted().prefix(3).joined(separator: ", "))"
                    + (contents.count > 3 ? ", ..." : "") + "); give an empty or new folder")
            }
        }
        try AtomicFile.makeFolder(folder)
        // Created in one step (no temporary beside it), so that a worker starting at the same
        // moment never sees a folder holding something else.
        let marker = open(folder + "/" + Self.markerName, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if marker >= 0 {
            let text = "a search folder of mlp-tune: its outputs may be replaced by the search\n"
            _ = text.withCString { Foundation.write(marker, $0, strlen($0)) }
            close(marker)
        } else if errno != EEXIST {
            throw MLPError.io(path: folder, problem: "cannot create the search folder (\(String(cString: strerror(errno))))")
        }
        try AtomicFile.makeFolder(folder + "/trials")
    }

    /// The file a search folder holds from its start, so that a folder of other files is never
    /// taken for one.
    public static let markerName = ".mlp-search"

    /// The seed the folder's search began with, if it has begun.
    public func recordedSeed() throws -> UInt64? {
        guard let data = FileManager.default.contents(atPath: settingsPath) else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let seed = (object["seed"] as? String).flatMap(UInt64.init) else {
            throw MLPError.format(path: settingsPath, problem: "not a search's settings (JSON with a seed)")
        }
        return seed
    }

    /// The search's seed: `given`, or the one the folder's search began with, or, for a new
    /// search, one drawn at random and kept in the folder at once, under the lock, so that
    /// workers started together on a new folder agree on it.
    public func agreedSeed(_ given: UInt64?) throws -> UInt64 {
        try locked {
            if let given { return given }
            if let recorded = try recordedSeed() { return recorded }
            let path = folder + "/seed"
            if let text = FileManager.default.contents(atPath: path) {
                guard let seed = UInt64(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw MLPError.format(path: path, problem: "not a seed (a whole number)")
                }
                return seed
            }
            let seed = UInt64.random(in: 0...UInt64(UInt32.max))
            try AtomicFile.write(Data("\(seed)\n".utf8), to: path)
            return seed
        }
    }

    /// The folder of trial `number`: its record, claim, model and history.
    public func trialFolder(_ number: Int) -> String { folder + "/trials/" + String(format: "%04d", number) }
    /// `search.json`: the settings the search began with, which every later worker must share.
    public var settingsPath: String { folder + "/search.json" }

    // MARK: The lock

    /// Runs `body` holding the store's lock.
    public func locked<T>(_ body: () throws -> T) throws -> T {
        let path = folder + "/lock"
        var waited = 0.0
        while true {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 {
                _ = worker.withCString { Glibc.write(descriptor, $0, strlen($0)) }
                close(descriptor)
                break
            }
            guard errno == EEXIST else {
                throw MLPError.io(path: path, problem: "cannot create the lock: \(String(cString: strerror(errno)))")
            }
            if let age = age(of: path), !isFresh(age) {
                // Its holder died holding it: move it aside (one breaker wins the rename) and go on.
                let aside = path + ".stale-" + worker.replacingOccurrences(of: ":", with: "-")
                if rename(path, aside) == 0 { unlink(aside) }
                continue
            }
            usleep(20_000)
            waited += 0.02
            if waited > timeout * 3 { throw MLPError.io(path: path, problem: "the search folder stays locked") }
        }
        defer { unlink(path) }
        return try body()
    }

    /// Whether a heartbeat `age` seconds old is a live worker's: refreshed within the timeout,
    /// and not stamped further in the future than that (a clock far ahead, or a file touched
    /// by hand, is no worker's heartbeat and would otherwise never expire).
    func isFresh(_ age: TimeInterval) -> Bool { (-timeout...timeout).contains(age) }

    /// Seconds since `path` was last modified; nil when it does not exist.
    func age(of path: String) -> TimeInterval? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let modified = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return Date().timeIntervalSince1970 - modified
    }

    // MARK: Records and claims

    /// Every trial's record, by number.
    public func records() throws -> [TrialRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/trials")) ?? []
        var records: [TrialRecord] = []
        for name in names.sorted() where Int(name) != nil {
            let path = folder + "/trials/" + name + "/trial.json"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path),
                  var object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw MLPError.format(path: path, problem: "not a trial record (JSON)")
            }
            // The values exactly as written, so that a trial's values equal those drawn for it.
            if var values = object["hyperparameters"] as? [String: Any] {
                for (key, exact) in Self.exactHyperparameters(in: data) {
                    if let read = values[key] as? NSNumber, read.doubleValue != exact { values[key] = exact }
                }
                object["hyperparameters"] = values
            }
            records.append(try TrialRecord(json: object, path: path))
        }
        return records.sorted { $0.number < $1.number }
    }

    /// The numbers among a record's hyperparameters, read exactly.
    ///
    /// JSONSerialization reads a number of 17 significant digits (as `jsonText` writes a double)
    /// up to one unit in the last place off (0.0005285006792644589 came back 1 ulp low), while
    /// JSONDecoder reads it exactly; values that are not numbers are left out.
    static func exactHyperparameters(in data: Data) -> [String: Double] {
        struct Number: Decodable {
            let value: Double?
            init(from decoder: Decoder) throws { value = try? decoder.singleValueContainer().decode(Double.self) }
        }
        struct Record: Decodable { let hyperparameters: [String: Number]? }
        return ((try? JSONDecoder().decode(Record.self, from: data))?.hyperparameters ?? [:]).compactMapValues(\.value)
    }

    /// Replaces the trial's `trial.json` atomically.
    public func write(_ record: TrialRecord) throws {
        let folder = trialFolder(record.number)
        try AtomicFile.makeFolder(folder)
        try AtomicFile.write(Data(jsonText(record.json).utf8), to: folder + "/trial.json")
    }

    /// Whether a worker holds `number`'s claim and has refreshed it within the timeout.
    public func isClaimed(_ number: Int) -> Bool {
        guard let age = age(of: trialFolder(number) + "/claim") else { return false }
        return isFresh(age)
    }

    /// Takes `number`'s claim for this worker (under the lock).
    public func claim(_ number: Int) throws {
        try AtomicFile.makeFolder(trialFolder(number))
        try AtomicFile.write(Data(worker.utf8), to: trialFolder(number) + "/claim")
    }

    /// Gives up this worker's claim on trial `number` (its record says how the trial ended).
    public func release(_ number: Int) {
        let path = trialFolder(number) + "/claim"
        if FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) == worker { unlink(path) }
    }
}
