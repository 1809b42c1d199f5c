import Foundation
import Testing
@testable import MLPKit

/// The database storage on SQLite (always) and on the PostgreSQL server MLP_TEST_POSTGRES names
/// (skipped without one): trial numbering, stale trials failed through the heartbeat, refusal of
/// another schema version, and the formats Optuna reads. Tests/Harness/database_check.py runs
/// workers of both kinds on one study.
@Suite struct RDBStorageTests {
    static let postgres = ProcessInfo.processInfo.environment["MLP_TEST_POSTGRES"]

    /// A new empty database of `engine`: an SQLite file in `folder`, or a fresh database on the
    /// test server.
    static func database(_ engine: String, _ folder: URL) throws -> String {
        guard engine == "postgresql" else { return "sqlite:///" + folder.appendingPathComponent("study.db").path }
        let admin = try #require(postgres)
        let name = "swift_\(UInt32.random(in: 0...UInt32.max))"
        try PostgreSQLConnection(url: admin).query("CREATE DATABASE \(name)")
        let slash = try #require(admin.lastIndex(of: "/"))
        return String(admin[..<slash]) + "/" + name
    }

    func open(_ url: String, _ folder: URL, worker: String, heartbeat: TimeInterval = 1) throws -> TrialStorage {
        var options = TrialStorageOptions(folder: folder.appendingPathComponent(worker).path)
        options.studyName = "study"
        options.heartbeatInterval = heartbeat
        return try Storages.open(url: url, options: options)
    }

    func settings(epochs: Int = 2) -> SearchRecord {
        TuningSettings(space: SearchSpace.standard, sampler: Samplers.named("random")!, schedule: .trials(4, epochs: epochs),
                       objective: Monitor("val_loss"), seed: 5, validationSplit: 0.2, base: TrainingRecipe()).record
    }

    /// Two workers' trials are numbered 0, 1, 2 in the order they were created, under the
    /// study's lock; a running trial whose heartbeat stops is failed by the other worker once
    /// twice the heartbeat interval has passed, and not before; a finished trial is never
    /// changed again.
    @Test func staleTrialsFailAfterTheGraceInSQLite() throws { try staleTrialsFailAfterTheGrace("sqlite") }

    @Test(.enabled(if: postgres != nil, "needs MLP_TEST_POSTGRES, a PostgreSQL server (Scripts/postgres.sh)"))
    func staleTrialsFailAfterTheGraceInPostgreSQL() throws { try staleTrialsFailAfterTheGrace("postgresql") }

    func staleTrialsFailAfterTheGrace(_ engine: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let url = try Self.database(engine, folder)
            let a = try open(url, folder, worker: "a"), b = try open(url, folder, worker: "b")
            try a.locked { try a.saveSettings(settings()) }
            #expect(try b.settings() == settings(), "\(url)")
            let values = HyperparameterValues(values: ["learning_rate": .double(0.001), "layers": .int(1), "units": .int(64),
                                                  "dropout": .double(0.1), "optimizer": .string("adam")])
            for (storage, number) in [(a, 0), (b, 1), (a, 2)] {
                try storage.locked {
                    #expect(try storage.records().count == number)
                    var record = TrialRecord(number: number, hyperparameters: values, epochs: 2, initialEpoch: 0, seed: 9)
                    record.runs = [TrialRecord.Run(worker: storage.worker, started: Date())]
                    try storage.claim(.trial(number))
                    try storage.write(record)
                }
            }
            // Trial 1 finishes; trials 0 and 2 keep their first heartbeat only.
            var done = try #require(try b.records().first { $0.number == 1 })
            (done.status, done.score, done.bestEpoch, done.intermediateValues) = (.completed, 4.25, 2, [0: 4.5, 1: 4.25])
            try b.write(done)
            #expect(try a.records().map(\.status) == [.running, .completed, .running], "\(url)")
            Thread.sleep(forTimeInterval: 2.5)
            let after = try a.records()
            #expect(after.map(\.status) == [.failed, .completed, .failed], "\(url)")
            #expect(after[1].score == 4.25 && after[1].intermediateValues == [0: 4.5, 1: 4.25] && after[1].hyperparameters == values)
            // The worker of a failed trial cannot complete it afterwards.
            var late = after[0]
            (late.status, late.score) = (.completed, 1.0)
            #expect(try a.write(late) == false, "\(url): the write of a failed trial said it was recorded")
            #expect(try b.records()[0].status == .failed && b.records()[0].score == nil, "\(url)")
        }
    }

    /// The study's seed is decided once: the first worker's (given or drawn) is kept at once;
    /// a worker without --seed takes it; one with another is refused in one line naming the
    /// study and its seed.
    @Test func seedIsAgreedInSQLite() throws { try seedIsAgreed("sqlite") }

    @Test(.enabled(if: postgres != nil, "needs MLP_TEST_POSTGRES, a PostgreSQL server (Scripts/postgres.sh)"))
    func seedIsAgreedInPostgreSQL() throws { try seedIsAgreed("postgresql") }

    func seedIsAgreed(_ engine: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try Self.database(engine, folder)
        let a = try open(url, folder, worker: "a"), b = try open(url, folder, worker: "b")
        let drawn = try a.agreedSeed(nil)
        #expect(try b.agreedSeed(nil) == drawn && b.agreedSeed(drawn) == drawn)
        do {
            _ = try b.agreedSeed(drawn &+ 1)
            Issue.record("another seed was taken")
        } catch MLPError.setting(let name, let problem) {
            #expect(name == "seed" && problem.contains("study 'study'") && problem.contains("seed \(drawn)")
                    && problem.contains("leave --seed out"), "\(problem)")
        }
        // Given first, the given seed is the study's.
        let otherFolder = folder.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: otherFolder, withIntermediateDirectories: true)
        let other = try Self.database(engine, otherFolder)
        let c = try open(other, folder, worker: "c"), d = try open(other, folder, worker: "d")
        #expect(try c.agreedSeed(4) == 4 && d.agreedSeed(nil) == 4)
    }

    /// A database holding Optuna's tables of another schema version is refused, naming it.
    @Test func anotherSchemaVersionIsRefusedInSQLite() throws { try anotherSchemaVersionIsRefused("sqlite") }

    @Test(.enabled(if: postgres != nil, "needs MLP_TEST_POSTGRES, a PostgreSQL server (Scripts/postgres.sh)"))
    func anotherSchemaVersionIsRefusedInPostgreSQL() throws { try anotherSchemaVersionIsRefused("postgresql") }

    func anotherSchemaVersionIsRefused(_ engine: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            let url = try Self.database(engine, folder)
            _ = try open(url, folder, worker: "a")
            let connection: SQLConnection = url.hasPrefix("sqlite") ? try SQLiteConnection(url: url) : try PostgreSQLConnection(url: url)
            try connection.query("UPDATE alembic_version SET version_num = 'v3.0.0.d'")
            #expect(throws: MLPError.self) { try open(url, folder, worker: "b") }
            do {
                _ = try open(url, folder, worker: "b")
            } catch let error as MLPError {
                #expect("\(error)".contains("v3.0.0.d") && "\(error)".contains("optuna storage upgrade"), "\(error)")
            }
        }
    }

    /// Passwords are masked wherever the URL is shown; other URLs are left alone.
    @Test func passwordsAreMasked() {
        #expect(maskedURL("postgresql://ann:s3cr%40t@db.example:5433/optuna") == "postgresql://ann:***@db.example:5433/optuna")
        #expect(maskedURL("postgresql+psycopg2://ann:p@ss@host/db") == "postgresql+psycopg2://ann:***@host/db")
        #expect(maskedURL("postgresql://ann@host/db") == "postgresql://ann@host/db")
        #expect(maskedURL("sqlite:///a:b@c.db") == "sqlite:///a:b@c.db")
    }

    /// Times as Optuna 5 stores them (UTC, microseconds), and JSON as Python's json.dumps
    /// writes it: checked against values worked out by hand.
    @Test func formatsAreOptunas() throws {
        let date = Date(timeIntervalSince1970: 1_796_236_365.5)
        #expect(RDBStorage.timestamp(date) == "2026-12-02 18:32:45.500000")
        #expect(RDBStorage.date("2026-12-02 18:32:45.500000") == date)
        #expect(RDBStorage.date("2026-12-02 18:32:45") == Date(timeIntervalSince1970: 1_796_236_365))
        #expect(RDBStorage.pythonJSON(.object(["b": .double(.nan), "a": .array([.int(1), .string("x")])])) == #"{"a": [1, "x"], "b": NaN}"#)
        #expect(RDBStorage.hyperValue(1, distribution: #"{"name": "CategoricalDistribution", "attributes": {"choices": [64, 128]}}"#) == .int(128))
        #expect(RDBStorage.hyperValue(2, distribution: #"{"name": "IntDistribution", "attributes": {"low": 1, "high": 3}}"#) == .int(2))
    }
}
