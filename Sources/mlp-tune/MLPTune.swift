import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPTune: ExtensionOptionsCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-tune",
        abstract: "Search hyperparameters on a validation split of the training set; never reads the holdout set.",
        discussion: """
            Without space options, searches KerasTuner's usual MLP space: --learning-rate 1e-4:1e-2 (log scale), \
            --hidden-layers 1:3, --units 64,128,256,512, --dropout 0:0.5, --optimizer adam,rmsprop. Each option replaces its key: \
            LOW:HIGH is a range, A,B,C a choice, one value a fixed value (the same value mlp-train's option takes). \
            --space FILE gives the whole space as JSON instead.

            Run again on the same --output-dir, it goes on with everything the folder's search.json records (the space, \
            the algorithm, the data, the seed): give no other option, or a larger --trials for more trials; an option that \
            differs from the record is refused. Several mlp-tune processes on one folder (on one machine or several sharing \
            it) split the trials and never run one twice.

            Writes trials.csv, trials.svg, optuna-journal.log, best.h5 (best.keras with --save-format keras), best.json \
            and a folder per trial; with --retrain, final.h5 (or final.keras) and final-history.csv.
            """)

    static func main() { mainReportingOneLine() }

    @Option(help: ArgumentHelp("The search's folder: its trials, its outputs, and what lets several workers share it.", valueName: "folder"))
    var outputDir: String

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Search algorithm: " + SearchAlgorithm.all.map { "\($0.name) (\($0.summary))" }.joined(separator: ", ")
                               + ". Default: the folder's, else random.", valueName: "name"))
    var algorithm: String?

    @Option(parsing: .unconditional, help: "Trials of a random, tpe or bayesian search (1 to 10000; default: the folder's, else 10). A larger number goes on with more.")
    var trials: Int?

    @Option(parsing: .unconditional, help: "Epochs per trial of a random, tpe or bayesian search (1 to 10000; default: the folder's, else 5).")
    var epochs: Int?

    @Option(parsing: .unconditional, help: "Hyperband's largest number of epochs for a trial (1 to 10000; default: the folder's, else 6).")
    var maxEpochs: Int?

    @Option(parsing: .unconditional, help: "Hyperband's reduction factor (2 to 100; default: the folder's, else 3).")
    var factor: Int?

    @Option(parsing: .unconditional, help: "Times Hyperband runs its whole schedule (1 to 100; default: the folder's, else 1).")
    var hyperbandIterations: Int?

    @Option(help: ArgumentHelp("Stop hopeless trials early, judged after each epoch against the other trials, as Optuna's pruners do: "
                               + Pruners.all.map { "\($0.name) (\($0.summary))" }.joined(separator: ", ") + ". Default: the folder's, else none.",
                               valueName: "name"))
    var pruner: String?

    @Option(help: ArgumentHelp("What judges a trial, on the validation split: \(SearchRequest.objectiveNames.joined(separator: ", ")) (params, the "
                               + "parameter count, is minimized). Repeat it to search a Pareto front of several (default: the folder's, else val_accuracy).",
                               valueName: "objective"))
    var objective: [String] = []

    @Option(help: ArgumentHelp("A bound a trial must keep to count: NAME<=X or NAME>=X over those names, e.g. params<=200000 (repeatable). "
                               + "Samplers prefer trials that keep it; best.* is the best that does.", valueName: "bound"))
    var constraint: [String] = []

    @Option(parsing: .unconditional, help: "Cross-validate each trial: K models, one per fold of scikit-learn's StratifiedKFold(K, shuffle=True, random_state=seed), scored by their mean (2 or more; instead of --validation-split).")
    var folds: Int?

    @Flag(help: "Give the same trials, number by number, however many workers share the search and however often it runs: trial n is proposed from the trials numbered below n − 2 once they have ended (a worker waits for them). Recorded in the search; every worker follows it.")
    var reproducible = false

    @Option(parsing: .unconditional, help: "The window of --reproducible (1 to 1000; default 2): how many of the newest trials a proposal does without, so that this many + 1 workers can train at once.")
    var reproducibleWindow: Int?

    @Option(parsing: .unconditional, help: "With --retrain: the trial to retrain, a member of the front with several objectives (default: the best).")
    var trial: Int?

    @Option(parsing: .unconditional, help: "The fraction of the training set, taken from its end before shuffling as Keras does, that judges the trials (above 0, below 1; default: the folder's, else 0.2).")
    var validationSplit: Double?

    @Option(help: "Seed of the trials' values, weights and shuffles (default: the folder's, or drawn at random). The values are KerasTuner's with the same seed.")
    var seed: UInt64?

    @Option(help: ArgumentHelp("The search space as JSON: {\"learning_rate\": {\"log_uniform\": [0.0001, 0.01]}, \"layers\": {\"int\": [1, 3]}, ...}.", valueName: "file"))
    var space: String?

    @OptionGroup var compute: ComputeOptionGroup

    @Flag(help: "When the search is done, train the best values on the whole training set for the best trial's epochs, and save final.h5.")
    var retrain = false

    @Option(help: ArgumentHelp("The format of best.* and final.*: \(ModelFormats.writable.map { "\($0.name) (\($0.title))" }.joined(separator: " or ")); a worker's own choice, not part of the search.", valueName: "format"))
    var saveFormat = KerasH5.name

    @Option(parsing: .unconditional, help: "Seconds after which a worker that stopped refreshing its trial is taken for dead and its trial run again (5 to 86400).")
    var claimTimeout: Double = 60

    @Option(help: ArgumentHelp("Keep the search in Optuna's own tables in a database that workers on any machine share, Python Optuna workers "
                               + "included: postgresql://user[:password]@host[:port]/db or sqlite:///path.db. Each worker keeps its "
                               + "trials' models in its own --output-dir. The password may also come from PGPASSWORD or ~/.pgpass.",
                               valueName: "url"))
    var storage: String?

    @Option(help: ArgumentHelp("The study's name in the --storage database (Optuna's study_name); created when absent.", valueName: "name"))
    var studyName: String?

    @Option(parsing: .unconditional, help: "Seconds between a running trial's heartbeats in a --storage database; a trial silent for twice this is failed by the next worker that looks (1 to 86400; default 60).")
    var heartbeatInterval: Double = 60

    @Option(parsing: .unconditional, help: "Seconds to wait for a --storage database that was lost (a server restarting, an SQLite file locked or unreachable) before this worker stops; training goes on meanwhile (0 to 86400; default 60).")
    var storageTimeout: Double = 60

    @Flag(help: "Go on with the search --output-dir (or --study-name) holds, and refuse to start a new one: a mistyped name stops here instead of starting a search of its own.")
    var resumeOnly = false

    @Option(name: .customLong("tensorboard"), help: ArgumentHelp("Log the search for TensorBoard: each trial's epoch scalars in DIR/<trial>/train and "
                               + "DIR/<trial>/validation, and the hparams plugin's experiment and sessions, for its HPARAMS tab.", valueName: "dir"))
    var tensorBoard: String?

    @Argument(parsing: .allUnrecognized, help: .private)
    var extensions: [String] = []

    /// Each searchable hyperparameter's flag, and the options of the callbacks that run in trials.
    static var extensionOptions: [ExtensionOption] { SearchRequest.spaceOptions + Callbacks.all.filter { $0.appliesInTrials }.flatMap { $0.options } }

    func validate() throws {
        func range<T: Comparable>(_ value: T?, _ bounds: ClosedRange<T>, _ flag: String) throws {
            if let value, !bounds.contains(value) { throw ValidationError("--\(flag) must be \(bounds.lowerBound) to \(bounds.upperBound), got \(value)") }
        }
        try range(trials, 1...10_000, "trials")
        try range(epochs, 1...10_000, "epochs")
        try range(maxEpochs, 1...10_000, "max-epochs")
        try range(factor, 2...100, "factor")
        try range(hyperbandIterations, 1...100, "hyperband-iterations")
        try range(claimTimeout, 5...86_400, "claim-timeout")
        try range(heartbeatInterval, 1...86_400, "heartbeat-interval")
        try range(storageTimeout, 0...86_400, "storage-timeout")
        try range(reproducibleWindow, 1...1_000, "reproducible-window")
        if trial != nil, !retrain { throw ValidationError("--trial picks the trial --retrain trains; give --retrain too") }
        if let validationSplit, !(validationSplit > 0 && validationSplit < 1) {
            throw ValidationError("--validation-split must be above 0 and below 1, got \(validationSplit)")
        }
        do {
            try request().check()
        } catch MLPError.setting(let name, let problem) {
            throw ValidationError("--\(name.replacingOccurrences(of: "_", with: "-")) \(problem)")
        }
    }

    /// The search these options ask for.
    func request() throws -> SearchRequest {
        var request = SearchRequest(folder: outputDir)
        (request.storage, request.studyName, request.algorithm, request.pruner, request.objectives) = (storage, studyName, algorithm, pruner, objective)
        (request.constraints, request.folds, request.reproducible, request.reproducibleWindow) = (constraint, folds, reproducible, reproducibleWindow)
        (request.trials, request.epochs, request.maxEpochs, request.factor) = (trials, epochs, maxEpochs, factor)
        (request.hyperbandIterations, request.validationSplit, request.seed) = (hyperbandIterations, validationSplit, seed)
        (request.compute, request.saveFormat, request.claimTimeout) = (compute.options(), saveFormat, claimTimeout)
        (request.heartbeatInterval, request.storageTimeout, request.data) = (heartbeatInterval, storageTimeout, try data.selection())
        request.resumeOnly = resumeOnly
        let given = try ExtensionArguments.parse(extensions, options: Self.extensionOptions, command: Self.self)
        request.spaceFlags = SearchRequest.spaceFlags(given.values)
        request.spaceFile = space
        return request
    }

    func run() throws {
        let given = try ExtensionArguments.parse(extensions, options: Self.extensionOptions, command: Self.self)
        for note in given.notes { FileHandle.standardError.write(Data("mlp-tune: \(note)\n".utf8)) }
        let session = try request().start(tensorBoard: tensorBoard) { print($0) }
        session.header.forEach { print($0) }
        StopSignal.install()
        session.tuner.callbacks = [Interrupt { StopSignal.isRequested }]
        var ranHere = 0
        session.tuner.report = { report in
            ranHere += 1
            print(report.line(objectives: session.settings.objectives))
        }
        guard try session.tuner.run() else { throw interrupted() }
        try session.summary(trialsRunHere: ranHere).forEach { print($0) }
        guard retrain else { return }
        guard let line = try session.retrainLine(try session.tuner.retrain(trial: trial, callbacks: [ProgressBar(), Interrupt { StopSignal.isRequested }]))
        else { throw interrupted() }
        print(line)
    }

    func interrupted() -> Error {
        let place = storage.map { "study '\(studyName ?? "")' in \(maskedURL($0))" } ?? outputDir
        FileHandle.standardError.write(Data("mlp-tune: interrupted; the finished trials are kept in \(place): run the same command again to go on\n".utf8))
        return ExitCode(130)
    }
}
