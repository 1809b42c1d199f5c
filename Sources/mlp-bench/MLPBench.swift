import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

/// The speed and memory benchmark: oneDNN's own float32 and bfloat16 rates at each model's
/// shapes, then mlp-train and mlp-eval run as a user runs them, with Keras 3 side by side on
/// request.
@main
struct MLPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-bench",
        abstract: "Measure training speed, memory and evaluation time against oneDNN's own rates (and Keras 3's TensorFlow and JAX backends).")

    static func main() { mainReportingOneLine() }

    @Option(help: ArgumentHelp("CIFAR-100 archive or folder, or 'synthetic' for the generated CIFAR-shaped set.", valueName: "path"))
    var data = "synthetic"

    @Option(parsing: .unconditional, help: "Epochs per training run; the median epoch is reported (2 to 100).")
    var epochs = 5

    @Flag(help: "Also train the baseline and the tuning trial's model with Keras 3 on TensorFlow and on JAX, in float32 and mixed_bfloat16, and compare against the faster.")
    var compareKeras = false

    @Option(help: ArgumentHelp("The Python that has Keras 3 (for --compare-keras; JAX from Tools/bench-requirements.txt).", valueName: "file"))
    var python = ".venv/bin/python"

    @Flag(help: "Skip the wide 3072-1024-512-100 model and the tuning trial's 3072-512-512-100.")
    var skipWide = false

    func validate() throws {
        guard (2...100).contains(epochs) else { throw ValidationError("--epochs must be 2 to 100, got \(epochs)") }
        if compareKeras {
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw ValidationError("--python: \(python) is not an executable Python (bash Scripts/test.sh makes .venv)")
            }
            guard FileManager.default.fileExists(atPath: Self.kerasScript) else {
                throw ValidationError("--compare-keras needs \(Self.kerasScript), from the source tree")
            }
        }
    }

    /// The folder of mlp-train and mlp-eval: beside this executable, wherever it was started from.
    static let tools: URL = {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: link).deletingLastPathComponent()
    }()

    static let kerasScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/keras_bench.py").path

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-bench-models-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("machine: \(Self.cpuName), \(cores) cores; \(MatrixEngine.oneDNN.description); \(openBLASVersion); "
              + "bfloat16 products: \(MatrixEngine.supportsBFloat16 ? "yes" : "no (oneDNN needs AVX-512)")")
        print("data: \(data), batch 128, \(counted(epochs, "epoch")) per run; engine \(MatrixEngine.preferred.rawValue)")

        let rate = MemoryRate.copy(threads: cores)
        print(String(format: "memory: %.1f GB/s (a 256 MB copy split over %d cores, bytes read and written counted, as STREAM's copy)", rate, cores))
        // A child's peak memory, as wait4 reports it, starts from this process's peak at the
        // spawn (posix_spawn shares the memory until exec): set it back to what the copy's
        // freed buffers leave.
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let runner = Runner(data: data, epochs: epochs, folder: folder, memoryRate: rate)
        var models = [try runner.model(name: "baseline", widths: [3072, 128, 100], layers: "128:relu")]
        var report = BenchmarkReport(models: models)
        report.evalSeconds = try runner.evaluate(models[0].model)
        print(String(format: "mlp-eval on the holdout set, loading included: median %.3f s of 3 runs", report.evalSeconds))
        if !skipWide {
            models.append(try runner.model(name: "tuning", widths: [3072, 512, 512, 100], layers: "512:relu,512:relu",
                                           extra: ["--optimizer", "adam", "--dropout", "0.2"], mixed: true))
            models.append(try runner.model(name: "wide", widths: [3072, 1024, 512, 100], layers: "1024:relu,512:relu"))
        }
        report.models = models
        if compareKeras { report.keras = try runner.keras(python: python, script: Self.kerasScript, tuning: !skipWide) }
        report.targetLines.forEach { print($0) }
    }

    static var cpuName: String {
        ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("model name") }.map { $0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces) } ?? "?"
    }
}

/// Runs mlp-train, mlp-eval and Keras as a user does, and measures the engines in between.
struct Runner {
    var data: String
    var epochs: Int
    var folder: URL
    /// The memory's copy rate, GB/s, for the step breakdown's traffic.
    var memoryRate: Double

    struct Measured {
        var status: Int32
        var seconds: Double
        var peakMB: Double
        var output: String
    }

    /// Runs a program, returning its wall time, peak resident memory and standard output; its
    /// standard error is kept out of the report unless it fails.
    func measure(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Measured {
        let outPath = folder.appendingPathComponent("out").path, errPath = folder.appendingPathComponent("err").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0)=\($1)") } + [nil]
        defer { variables.forEach { free($0) } }
        var pid = pid_t()
        let start = Date()
        guard posix_spawnp(&pid, program, &actions, nil, argv, variables) == 0 else {
            throw MLPError.io(path: program, problem: "cannot run")
        }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Date().timeIntervalSince(start)
        var output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        if status != 0 { output += (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        return Measured(status: status, seconds: seconds, peakMB: Double(usage.ru_maxrss) / 1024, output: output)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Trains with mlp-train; returns the median epoch, the peak memory, the model file, the
    /// steps per epoch it reported, and with `profiled` the breakdown of its steps.
    func train(layers: String, name: String, extra: [String], profiled: Bool = false) throws
        -> (epoch: Double, peakMB: Double, model: String, steps: Int, breakdown: StepBreakdown?)
    {
        let model = folder.appendingPathComponent(name + ".h5").path, history = folder.appendingPathComponent(name + ".json").path
        let profile = folder.appendingPathComponent(name + "-steps.json").path
        let run = try measure(MLPBench.tools.appendingPathComponent("mlp-train").path,
                              ["--data", data, "--layers", layers, "--epochs", String(epochs), "--seed", "1", "-o", model,
                               "--history", history] + (profiled ? ["--profile-steps", profile] : []) + extra)
        guard run.status == 0 else { throw MLPError.usage("mlp-train failed:\n\(run.output)") }
        let seconds = JSONValue(parsing: try Data(contentsOf: URL(fileURLWithPath: history)))?["seconds"]?.array?.compactMap(\.number) ?? []
        // "train: 50000 images, ..." gives the steps of an epoch.
        guard let line = run.output.split(separator: "\n").first(where: { $0.hasPrefix("train: ") }),
              let images = Int(line.split(separator: " ")[1])
        else { throw MLPError.usage("mlp-train did not say how many images it trained on:\n\(run.output)") }
        let steps = (images + 127) / 128
        let breakdown = profiled ? (try? Data(contentsOf: URL(fileURLWithPath: profile))).flatMap { JSONValue(parsing: $0) }
            .flatMap(StepBreakdown.init(json:)) : nil
        // The first epoch warms caches and page tables; the median is over all of them.
        return (Self.median(seconds), run.peakMB, model, steps, breakdown)
    }

    /// A model's epochs and oneDNN's rates at its shapes, measured before and after the runs
    /// (the faster counts: the machine has slow spells).
    func model(name: String, widths: [Int], layers: String, extra: [String] = [], mixed: Bool = false) throws -> BenchmarkFigures {
        let shapes = ProductBenchmark(widths: widths, batch: 128)
        let cores = ProcessInfo.processInfo.activeProcessorCount, repeats = widths[1] > 256 ? 10 : 40
        func rates() -> (float32: Double, bfloat16: Double?, training: Double, kernels: [String]) {
            let float32 = shapes.oneDNNRate(threads: cores, bfloat16: false, repeats: repeats)
            let bfloat16 = shapes.oneDNNRate(threads: cores, bfloat16: true, repeats: repeats)
            let training = shapes.trainingRate(engine: .preferred, threads: cores, repeats: repeats)
            return (float32?.seconds ?? .nan, bfloat16?.seconds, training.seconds,
                    (float32?.implementations ?? []) + (bfloat16?.implementations ?? []))
        }
        let before = rates()
        let trained = try train(layers: layers, name: name, extra: extra)
        let dense = try train(layers: layers, name: name + "-dense", extra: extra + ["--dense-backward"], profiled: true)
        var mixedEpoch: Double?
        if mixed, MatrixEngine.supportsBFloat16 {
            mixedEpoch = try train(layers: layers, name: name + "-bf16", extra: extra + ["--dtype-policy", "mixed_bfloat16"]).epoch
        }
        let after = rates()
        let steps = Double(trained.steps)
        var figures = BenchmarkFigures(name: name, model: trained.model,
                                       shape: widths.map(String.init).joined(separator: "-") + (extra.isEmpty ? "" : " (" + extra.joined(separator: " ") + ")"),
                                       steps: trained.steps, epoch: trained.epoch, denseEpoch: dense.epoch, peakMB: trained.peakMB,
                                       oneDNNFloat32: min(before.float32, after.float32) * steps, products: min(before.training, after.training) * steps,
                                       kernels: Set(before.kernels + after.kernels).sorted(), gflopPerEpoch: shapes.flops * steps / 1e9)
        figures.oneDNNBFloat16 = [before.bfloat16, after.bfloat16].compactMap { $0 }.min().map { $0 * steps }
        figures.mixedEpoch = mixedEpoch
        figures.breakdown = dense.breakdown
        figures.lines(cores: cores, memoryRate: memoryRate).forEach { print($0) }
        return figures
    }

    /// mlp-eval's median time over 3 runs, loading included.
    func evaluate(_ model: String) throws -> Double {
        var times: [Double] = []
        for _ in 0..<3 {
            let eval = try measure(MLPBench.tools.appendingPathComponent("mlp-eval").path, [model, "--data", data])
            guard eval.status == 0 else { throw MLPError.usage("mlp-eval failed:\n\(eval.output)") }
            times.append(eval.seconds)
        }
        return Self.median(times)
    }

    /// Keras 3's median epochs: (backend, policy, model) → seconds.
    func keras(python: String, script: String, tuning: Bool) throws -> [KerasRun: Double] {
        var result: [KerasRun: Double] = [:]
        let models: [(String, [String])] = [("baseline", [])]
            + (tuning ? [("tuning", ["--layers", "512,512", "--dropout", "0.2", "--optimizer", "adam"])] : [])
        for (model, options) in models {
            for backend in ["tensorflow", "jax"] {
                for policy in DTypePolicy.allCases {
                    let run = try measure(python, [script, "--data", data, "--epochs", String(epochs), "--backend", backend,
                                                   "--dtype-policy", policy.rawValue] + options)
                    guard run.status == 0, let line = run.output.split(separator: "\n").last(where: { $0.hasPrefix("median_epoch ") }),
                          let seconds = Double(line.split(separator: " ")[1])
                    else { throw MLPError.usage("the Keras run (\(backend), \(policy.rawValue), \(model)) failed:\n\(run.output)") }
                    result[KerasRun(model: model, backend: backend, policy: policy)] = seconds
                    print(String(format: "Keras 3 on %@, %@, %@ epoch: median %.3f s; peak memory %.0f MB",
                                 backend, policy.rawValue, model, seconds, run.peakMB))
                }
            }
        }
        return result
    }
}
