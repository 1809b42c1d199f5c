import Foundation

/// A search's trials kept in its folder, shared by every worker that runs it, on one machine or
/// on several that share the folder (as Optuna's file journal is): no server, only files.
///
/// - `search.json`: the search's settings, written by the first worker; a later worker with
///   other settings is refused.
/// - `trials/NNNN/trial.json`: each trial's record, replaced atomically (rename) on every change.
/// - `trials/NNNN/claim`: the worker running the trial; its modification time is the worker's
///   heartbeat, and a claim not refreshed within the timeout has expired, so the trial is run
///   again by whoever comes next.
/// - `lock`: held (created with O_EXCL, removed after) while a worker reads the records and
///   decides; a lock older than the timeout is broken, as its holder has died.
///
/// Records are kept in memory and read again only when their file changed.
public final class FolderStorage: TrialStorage, RegisteredStorage, @unchecked Sendable {
    public static let scheme = "file"

    public let folder: SearchFolder
    public let timeout: TimeInterval
    public let worker: String
    // Each record as last read or written, with the identity of its file then.
    private var cache: [Int: (file: FileIdentity, record: TrialRecord)] = [:]

    /// The search in `folder`; `prepare` makes the folder when new.
    ///
    /// - Parameters:
    ///   - timeout: seconds after which a claim or the lock that was not refreshed has expired.
    public init(folder path: String, timeout: TimeInterval = 60) {
        folder = SearchFolder(path)
        self.timeout = timeout
        worker = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    /// Creates the folder (and its marker) when new; refuses a file, or a folder holding files
    /// that are not a search's.
    public func prepare() throws { try Self.prepare(folder: folder.path) }

    /// Makes `path` a search folder (its marker and its trials' folder), unless it is a file or
    /// a folder holding files that are not a search's.
    static func prepare(folder path: String) throws {
        let folder = SearchFolder(path)
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw MLPError.io(path: path, problem: "is a file, not a folder for a search") }
            // Only a folder that is empty or holds a search: never over files mlp-tune did not write.
            let contents = (try? fm.contentsOfDirectory(atPath: path)) ?? []
            let marker = URL(fileURLWithPath: folder.marker).lastPathComponent, settings = URL(fileURLWithPath: folder.settings).lastPathComponent
            if !contents.isEmpty, !contents.contains(marker), !contents.contains(settings) {
                throw MLPError.io(path: path, problem: "holds files that are not a search's (\(contents.sorted().prefix(3).joined(separator: ", "))"
                    + (contents.count > 3 ? ", ..." : "") + "); give an empty or new folder")
            }
        }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fm.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            throw MLPError.io(path: path, problem: "its folder \(parent) does not exist")
        }
        try AtomicFile.makeFolder(path)
        // Created in one step (no temporary beside it), so that a worker starting at the same
        // moment never sees a folder holding something else.
        let marker = Glibc.open(folder.marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if marker >= 0 {
            let text = "a search folder of mlp-tune: its outputs may be replaced by the search\n"
            _ = text.withCString { Foundation.write(marker, $0, strlen($0)) }
            close(marker)
        } else if errno != EEXIST {
            throw MLPError.io(path: path, problem: "cannot create the search folder (\(String(cString: strerror(errno))))")
        }
        try AtomicFile.makeFolder(folder.trials)
    }

    /// `file:///path/to/folder`, or the folder's path as given: the folder storage there; its
    /// trials' files live there too.
    public static func open(url: String, options: TrialStorageOptions) throws -> TrialStorage {
        guard url.contains("://") else { return FolderStorage(folder: url, timeout: options.timeout) }
        guard let parsed = URL(string: url), parsed.isFileURL, !parsed.path.isEmpty else {
            throw MLPError.setting("storage", problem: "'\(url)' is not a file:// URL of a folder")
        }
        return FolderStorage(folder: parsed.path, timeout: options.timeout)
    }

    // MARK: Settings and seed

    public var settingsLocation: String { folder.settings }
    public var searchNoun: String { "this folder" }
    public var remedy: String { "use another folder" }
    public var searchName: String { "the search in \(folder.path)" }
    public var newSearchLine: String { "new search in \(folder.path.hasSuffix("/") ? folder.path : folder.path + "/")" }
    public func recorded(_ what: String) -> String { "the search in \(folder.path) has \(what) (its search.json)" }
    public var resumesPastTrials: Bool { true }

    public var sharesOutputs: Bool { true }

    public func settings() throws -> SearchRecord? {
        guard let data = FileManager.default.contents(atPath: folder.settings) else { return nil }
        return try SearchRecord.read(data, path: folder.settings)
    }

    public func saveSettings(_ settings: SearchRecord) throws {
        try AtomicFile.write(Data(try JSONRecords.text(settings).utf8), to: folder.settings)
    }

    public func agreedSeed(_ given: UInt64?) throws -> UInt64 {
        try locked {
            var recorded = try settings().flatMap { UInt64($0.seed) }
            if recorded == nil, let text = FileManager.default.contents(atPath: folder.seed) {
                guard let seed = UInt64(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw MLPError.format(path: folder.seed, problem: "not a seed (a whole number)")
                }
                recorded = seed
            }
            if let recorded {
                if let given, given != recorded { throw seedRefusal(given: given, recorded: recorded) }
                return recorded
            }
            let seed = given ?? UInt64.random(in: 0...UInt64(UInt32.max))
            try AtomicFile.write(Data("\(seed)\n".utf8), to: folder.seed)
            return seed
        }
    }

    // MARK: The lock

    public func locked<T>(_ body: () throws -> T) throws -> T {
        let path = folder.lock
        var waited = 0.0
        while true {
            let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
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

    // MARK: Records

    public func records() throws -> [TrialRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.trials)) ?? []
        var records: [TrialRecord] = []
        var seen = Set<Int>()
        for number in names.compactMap(SearchFolder.trialNumber).sorted() {
            let path = folder.record(number)
            guard let identity = FileIdentity(path: path) else { continue }
            seen.insert(number)
            if let cached = cache[number], cached.file == identity {
                records.append(cached.record)
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MLPError.format(path: path, problem: "not a trial record (cannot read it)")
            }
            let record = try TrialRecord.read(data, path: path)
            cache[number] = (identity, record)
            records.append(record)
        }
        cache = cache.filter { seen.contains($0.key) }
        return records.sorted { $0.number < $1.number }
    }

    /// Always recorded: a trial whose claim expired is run again by another worker, and the
    /// later record of the two stands.
    @discardableResult
    public func write(_ record: TrialRecord) throws -> Bool {
        try AtomicFile.makeFolder(folder.trial(record.number))
        let path = folder.record(record.number)
        try AtomicFile.write(Data(try JSONRecords.text(record).utf8), to: path)
        if let identity = FileIdentity(path: path) { cache[record.number] = (identity, record) }
        return true
    }

    // MARK: Claims

    private func path(of claim: Claim) -> String {
        switch claim {
        case .trial(let number): return folder.claim(number)
        case .retraining: return folder.finalClaim
        }
    }

    public func isClaimed(_ claim: Claim) -> Bool {
        guard let age = age(of: path(of: claim)) else { return false }
        return isFresh(age)
    }

    public func claim(_ claim: Claim) throws {
        if case .trial(let number) = claim { try AtomicFile.makeFolder(folder.trial(number)) }
        try AtomicFile.write(Data(worker.utf8), to: path(of: claim))
    }

    public func release(_ claim: Claim) {
        let path = path(of: claim)
        if FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) == worker { unlink(path) }
    }

    public func heartbeat(_ claim: Claim) -> Heartbeat {
        let path = path(of: claim)
        return RepeatingHeartbeat(interval: max(timeout / 4, 0.05), first: true) { utimes(path, nil) }
    }
}

/// Which file a path held when it was read: a record read before is read again only when its
/// file was replaced (a rename gives it a new inode) or changed.
struct FileIdentity: Equatable {
    let inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        seconds = Int(info.st_mtim.tv_sec)
        nanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

/// Calls `beat` from its own thread, at once when `first` and then every `interval` seconds,
/// until stopped: a claim's file touched, or a database trial's heartbeat row refreshed.
final class RepeatingHeartbeat: Heartbeat, @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    init(interval: TimeInterval, first: Bool, beat: @escaping @Sendable () -> Void) {
        Thread { [self] in
            condition.lock()
            var due = first
            while !stopped {
                if due {
                    condition.unlock()
                    beat()
                    condition.lock()
                }
                due = !stopped && !condition.wait(until: Date().addingTimeInterval(interval))
            }
            condition.unlock()
        }.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
