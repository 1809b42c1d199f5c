import Foundation
import Testing
@testable import MLPKit

/// `mlp-tune`'s decision of a search: each option given, over what its storage records, over
/// the defaults; an option that differs from the record, or does not apply, refused by name.
@Suite struct SearchRequestTests {
    /// A folder storage recording a TPE search of 7 trials of 3 epochs on val_loss, split 0.3,
    /// seed 5, units 32 or 64, pruned by the median rule.
    func recordedSearch(_ folder: URL) throws -> (TrialStorage, SearchRecord) {
        let space = try SearchSpace(entries: [("units", .choice([.int(32), .int(64)])), ("learning_rate", .logUniform(1e-3, 1e-2))])
        var settings = TuningSettings(space: space, sampler: try #require(Samplers.named("tpe")), schedule: .trials(7, epochs: 3),
                                      objective: Monitor("val_loss"), seed: 5, validationSplit: 0.3)
        settings.pruner = try #require(Pruners.named("median"))
        let storage = try Storages.open(url: folder.path, options: TrialStorageOptions(folder: folder.path))
        try storage.prepare()
        try storage.saveSettings(settings.record)
        return (storage, try #require(try storage.settings()))
    }

    func problem(_ body: () throws -> Void) -> (name: String, problem: String)? {
        do {
            try body()
        } catch MLPError.setting(let name, let problem) {
            return (name, problem)
        } catch {
            return ("other", "\(error)")
        }
        return nil
    }

    /// Nothing given and nothing recorded: KerasTuner's usual space, 10 random trials of 5 epochs
    /// on val_accuracy, the last 0.2 held out, no pruner.
    @Test func defaultsWithoutARecord() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let request = SearchRequest(folder: folder.path)
        let settings = try request.resolve(over: nil, storage: try request.openStorage())
        #expect(settings.algorithm.name == "random" && settings.schedule == .trials(10, epochs: 5))
        #expect(settings.objective.name == "val_accuracy" && settings.validationSplit == 0.2 && !settings.pruner.prunes)
        #expect(settings.space == SearchSpace.standard)
    }

    /// Left out, every setting is the record's; a larger --trials goes on with more; a flag
    /// equal to the record is accepted.
    @Test func recordOverDefault() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (storage, recorded) = try recordedSearch(folder)
        var request = SearchRequest(folder: folder.path)
        var settings = try request.resolve(over: recorded, storage: storage)
        #expect(settings.algorithm.name == "tpe" && settings.schedule == .trials(7, epochs: 3) && settings.pruner.name == "median")
        #expect(settings.objective.name == "val_loss" && settings.validationSplit == 0.3 && settings.seed == 5)
        #expect(settings.space.distribution(of: "units") == .choice([.int(32), .int(64)]))
        request.trials = 9
        request.epochs = 3
        request.spaceFlags = [("units", "units", "32,64")]
        settings = try request.resolve(over: recorded, storage: storage)
        #expect(settings.schedule == .trials(9, epochs: 3))
    }

    /// An option that differs from the record is refused, naming the option, the record and
    /// the remedy.
    @Test func differingOptionRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (storage, recorded) = try recordedSearch(folder)
        let cases: [(change: (inout SearchRequest) -> Void, name: String, problem: String)] = [
            ({ $0.epochs = 4 }, "epochs", "4: the search in \(folder.path) has 3 epochs a trial (its search.json); leave the option out, or use another folder"),
            ({ $0.trials = 6 }, "trials", "6: the search in \(folder.path) has 7 trials (a larger number goes on with more)"),
            ({ $0.algorithm = "random" }, "algorithm", "random: the search in \(folder.path) has tpe"),
            ({ $0.pruner = "none" }, "pruner", "none: the search in \(folder.path) has median"),
            ({ $0.objectives = ["val_accuracy"] }, "objective", "val_accuracy: the search in \(folder.path) has val_loss"),
            ({ $0.validationSplit = 0.2 }, "validation_split", "0.2: the search in \(folder.path) has 0.3"),
            ({ $0.seed = 6 }, "seed", "6: the search in \(folder.path) has seed 5"),
            ({ $0.spaceFlags = [("units", "units", "128")] }, "units", "128: the search in \(folder.path) has units 32|64"),
        ]
        for (change, name, expected) in cases {
            var request = SearchRequest(folder: folder.path)
            change(&request)
            let refused = problem { _ = try request.resolve(over: recorded, storage: storage) }
            #expect(refused?.name == name, "\(name): \(String(describing: refused))")
            #expect(refused?.problem.hasPrefix(expected) == true, "\(String(describing: refused?.problem)) against \(expected)")
        }
    }

    /// A search another worker made while this one was starting: the options this worker left
    /// out take the record's values (its settings are decided again over the record), while
    /// one it gave that differs is refused by name.
    @Test func joiningASearchMadeMeanwhile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let request = SearchRequest(folder: folder.path)
        let storage = try request.openStorage()
        // Read before the other worker recorded its search: the defaults.
        let early = try request.resolve(over: nil, storage: storage)
        #expect(early.schedule == .trials(10, epochs: 5))
        let (_, recorded) = try recordedSearch(folder)
        let images = ImageDataset(images: [UInt8](repeating: 7, count: 16 * 4), labels: [Int32](repeating: 0, count: 16), shape: [4],
                                  classNames: ["a", "b"])
        let data = DatasetPair(train: images, test: images.slice(0..<0), name: "tiny", source: "tiny", checksum: "")
        let rejoin = { (record: SearchRecord) in try request.resolve(over: record, storage: storage) }
        let tuner = try Tuner(settings: early, storage: storage, data: data, rejoin: rejoin)
        #expect(tuner.settings.schedule == .trials(7, epochs: 3) && tuner.settings.objective.name == "val_loss")
        #expect(try storage.settings() == recorded)
        // Without rejoining, the same start is refused as a search with other settings.
        #expect(throws: MLPError.self) { _ = try Tuner(settings: early, storage: storage, data: data) }
        var given = request
        given.epochs = 4
        let refused = problem { _ = try Tuner(settings: try given.resolve(over: nil, storage: storage), storage: storage, data: data) {
            try given.resolve(over: $0, storage: storage)
        } }
        #expect(refused?.name == "epochs", "\(String(describing: refused))")
    }

    /// Options that do not apply to the algorithm or the storage are refused by name.
    @Test func flagsThatDoNotApply() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let storage = try SearchRequest(folder: folder.path).openStorage()
        let cases: [(change: (inout SearchRequest) -> Void, name: String)] = [
            ({ $0.algorithm = "hyperband"; $0.trials = 5 }, "trials"),
            ({ $0.algorithm = "hyperband"; $0.pruner = "median" }, "pruner"),
            ({ $0.maxEpochs = 4 }, "max_epochs"),
            ({ $0.algorithm = "tpe"; $0.factor = 2 }, "factor"),
            ({ $0.studyName = "s" }, "study_name"),
            ({ $0.storage = "mysql://x/y"; $0.studyName = "s" }, "storage"),
            ({ $0.pruner = "nope" }, "pruner"),
            ({ $0.objectives = ["accuracy"] }, "objective"),
            ({ $0.spaceFile = "space.json"; $0.spaceFlags = [("units", "units", "8")] }, "space"),
            ({ $0.spaceFlags = [("layers", "hidden-layers", "128:relu")] }, "hidden_layers"),
        ]
        for (change, name) in cases {
            var request = SearchRequest(folder: folder.path)
            change(&request)
            let refused = problem { _ = try request.resolve(over: nil, storage: storage) }
            #expect(refused?.name == name, "\(name): \(String(describing: refused))")
        }
        // Hyperband goes on from past trials' models on one disk: not with a database's workers.
        let database = try Storages.open(url: "sqlite:///" + folder.appendingPathComponent("s.db").path,
                                         options: { var o = TrialStorageOptions(folder: folder.path); o.studyName = "s"; return o }())
        var hyperband = SearchRequest(folder: folder.path)
        hyperband.algorithm = "hyperband"
        #expect(problem { _ = try hyperband.resolve(over: nil, storage: database) }?.name == "algorithm")
    }

    /// A record naming a sampler or pruner this toolchain does not have is one error naming its file.
    @Test func unknownPartsOfTheRecord() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (storage, recorded) = try recordedSearch(folder)
        var damaged = recorded
        damaged.algorithm.name = "tpf"
        #expect(throws: MLPError.format(path: storage.settingsLocation, problem: "unknown algorithm 'tpf'")) {
            _ = try SearchRequest(folder: folder.path).resolve(over: damaged, storage: storage)
        }
        damaged = recorded
        damaged.algorithm.pruner = "mediam"
        #expect(throws: MLPError.format(path: storage.settingsLocation, problem: "unknown pruner 'mediam'")) {
            _ = try SearchRequest(folder: folder.path).resolve(over: damaged, storage: storage)
        }
    }
}
