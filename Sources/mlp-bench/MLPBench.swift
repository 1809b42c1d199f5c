import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

/// The speed and memory benchmark: OpenBLAS's sgemm rate at the model's shapes, then mlp-train
/// and mlp-eval run as a user runs them, with Keras side by side on request.
@main
struct MLPBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-bench",
        abstract: "Measure training speed, memory and evaluation time against the machine's sgemm rate (and Keras 3).")

    static func main() { mainReportingOneLine() }

    @Option(help: "CIFAR-100 archive or folder (default: the generated CIFAR-shaped synthetic set).")
    var data = "synthetic"

    @Option(help: "Epochs per training run; the median epoch is reported (2 to 100).")
    var epochs = 5

    @Flag(help: "Also train the same model with Keras 3 in this run and print the ratio.")
    var compareKeras = false

    @Option(help: "The Python that has Keras 3 (for --compare-keras).")
    var python = ".venv/bin/python"

    @Flag(help: "Skip the wide 3072-1024-512-100 model.")
    var skipWide = false

    func validate() throws {
        guard (2...100).contains(epochs) else { throw ValidationError("--epochs must be 2 to 100, got \(epochs)") }
    }

    func run() throws {
        try benchmark()
    }

    /// The products of one training step of a Dense stack on a batch (the first layer needs no
    /// input gradient): (transposeA, m, n, k) for forward, kernel gradient and input gradient.
    static func products(widths: [Int], batch: Int) -> [(Bool, Bool, Int, Int, Int)] {
        var list: [(Bool, Bool, Int, Int, Int)] = []
        for (index, (inputs, units)) in zip(widths, widths.dropFirst()).enumerated() {
            list.append((false, false, batch, units, inputs))
            list.append((true, false, inputs, units, batch))
            if index > 0 { list.append((false, true, batch, inputs, units)) }
        }
        return list
    }

    /// Seconds per training step's products when run back to back: the fastest of 5 groups of
    /// `repeats` steps, so that a slow spell of the machine does not flatter the fractions.
    static func sgemmStep(widths: [Int], batch: Int, repeats: Int) -> (seconds: Double, flops: Double) {
        let shapes = products(widths: widths, batch: batch)
        let threads = ComputeOptions().threads
        let buffers = shapes.map { (ta, tb, m, n, k) in (FloatBuffer(count: m * k), FloatBuffer(count: k * n), FloatBuffer(count: m * n)) }
        for (a, b, _) in buffers { a.fill(0.01); b.fill(0.02) }
        func step() {
            for ((ta, tb, m, n, k), (a, b, c)) in zip(shapes, buffers) {
                sgemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a.pointer, lda: ta ? m : k,
                      b: b.pointer, ldb: tb ? k : n, c: c.pointer, ldc: n, threads: threads)
            }
        }
        for _ in 0..<20 { step() }
        var times: [Double] = []
        for _ in 0..<5 {
            let start = Date()
            for _ in 0..<repeats { step() }
            times.append(Date().timeIntervalSince(start) / Double(repeats))
        }
        let flops = shapes.reduce(0.0) { $0 + 2 * Double($1.2) * Double($1.3) * Double($1.4) }
        return (times.min()!, flops)
    }

    struct Measured {
        var status: Int32
        var seconds: Double
        var peakMB: Double
        var output: String
    }

    /// Runs a program, returning its wall time, peak resident memory and standard output; its
    /// standard error is kept out of the report unless it fails.
    func measure(_ program: String, _ arguments: [String]) throws -> Measured {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-bench-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outPath = folder.appendingPathComponent("out").path, errPath = folder.appendingPathComponent("err").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let start = Date()
        guard posix_spawnp(&pid, program, &actions, nil, argv, environ) == 0 else {
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

    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Trains with mlp-train and returns the median epoch, peak memory and the model file.
    func train(layers: String, folder: URL, name: String, dense: Bool = false, extra: [String] = []) throws
        -> (epoch: Double, peakMB: Double, model: String)
    {
        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let model = folder.appendingPathComponent(name + ".h5").path, history = folder.appendingPathComponent(name + ".json").path
        let run = try measure(tools.appendingPathComponent("mlp-train").path,
                              ["--data", data, "--layers", layers, "--epochs", String(epochs), "--seed", "1", "-o", model,
                               "--history", history] + (dense ? ["--dense-backward"] : []) + extra)
        guard run.status == 0 else { throw MLPError.usage("mlp-train failed:\n\(run.output)") }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: history))) as? [String: Any]
        let seconds = (object?["seconds"] as? [Double]) ?? []
        // The first epoch warms caches and page tables; the median is over all of them.
        return (median(seconds), run.peakMB, model)
    }

    func benchmark() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mlp-bench-models-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("model name") }.map { $0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces) } ?? "?"
        print("machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS \(openBLASVersion)")
        print("data: \(data), batch 128, \(epochs) epochs per run")

        let baseline = [3072, 128, 100], wide = [3072, 1024, 512, 100]
        let steps = Double((50_000 + 127) / 128)
        var base = Self.sgemmStep(widths: baseline, batch: 128, repeats: 50)
        let trained = try train(layers: "128:relu", folder: folder, name: "baseline")
        let dense = try train(layers: "128:relu", folder: folder, name: "baseline-dense", dense: true)
        // Measured again after the runs; the faster of the two is the machine's rate.
        let after = Self.sgemmStep(widths: baseline, batch: 128, repeats: 50)
        if after.seconds < base.seconds { base = after }
        let rate = base.flops / base.seconds / 1e9
        print(String(format: "sgemm at the baseline's shapes: %.1f GFLOP/s (%.3f ms per step, %.1f GFLOP per epoch; best of 10 groups, before and after the runs)",
                     rate, base.seconds * 1e3, base.flops * steps / 1e9))
        let achieved = base.flops * steps / trained.epoch / 1e9
        print(String(format: "baseline epoch: median %.3f s (%.1f GFLOP/s dense-equivalent, %.0f%% of the sgemm rate); peak memory %.0f MB",
                     trained.epoch, achieved, 100 * achieved / rate, trained.peakMB))
        let denseAchieved = base.flops * steps / dense.epoch / 1e9
        print(String(format: "baseline epoch, every product computed (--dense-backward): median %.3f s, %.1f GFLOP/s = %.0f%% of the sgemm rate",
                     dense.epoch, denseAchieved, 100 * denseAchieved / rate))

        let tools = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var evalTimes: [Double] = []
        for _ in 0..<3 {
            let eval = try measure(tools.appendingPathComponent("mlp-eval").path, [trained.model, "--data", data])
            guard eval.status == 0 else { throw MLPError.usage("mlp-eval failed:\n\(eval.output)") }
            evalTimes.append(eval.seconds)
        }
        let evalTime = median(evalTimes)
        print(String(format: "mlp-eval on 10,000 images, loading included: median %.3f s of 3 runs", evalTime))

        var wideRatios: [Double] = []
        if !skipWide {
            var wideProducts = Self.sgemmStep(widths: wide, batch: 128, repeats: 10)
            let wideRuns = try [false, true].map { dense in
                (dense, try train(layers: "1024:relu,512:relu", folder: folder, name: "wide", dense: dense))
            }
            let wideAfter = Self.sgemmStep(widths: wide, batch: 128, repeats: 10)
            if wideAfter.seconds < wideProducts.seconds { wideProducts = wideAfter }
            let sgemmEpoch = wideProducts.seconds * steps
            for (dense, wideTrained) in wideRuns {
                wideRatios.append(wideTrained.epoch / sgemmEpoch)
                print(String(format: "3072-1024-512-100 epoch%@: median %.3f s; its sgemm time %.3f s; ratio %.2f; peak memory %.0f MB",
                             dense ? ", every product computed" : "", wideTrained.epoch, sgemmEpoch, wideTrained.epoch / sgemmEpoch,
                             wideTrained.peakMB))
            }
        }

        // The tuning search's typical trial: Adam and dropout, against the same model with the
        // baseline's RMSprop and no dropout, both against their sgemm time.
        var tuningRatios: (adam: Double, rmsprop: Double)?
        if !skipWide {
            let tuning = [3072, 512, 512, 100]
            var products = Self.sgemmStep(widths: tuning, batch: 128, repeats: 10)
            let adam = try train(layers: "512:relu,512:relu", folder: folder, name: "adam", extra: ["--optimizer", "adam", "--dropout", "0.2"])
            let rmsprop = try train(layers: "512:relu,512:relu", folder: folder, name: "rmsprop")
            let productsAfter = Self.sgemmStep(widths: tuning, batch: 128, repeats: 10)
            if productsAfter.seconds < products.seconds { products = productsAfter }
            let sgemmEpoch = products.seconds * steps
            tuningRatios = (adam.epoch / sgemmEpoch, rmsprop.epoch / sgemmEpoch)
            print(String(format: "3072-512-512-100, Adam and dropout 0.2, epoch: median %.3f s; its sgemm time %.3f s; ratio %.2f "
                         + "(RMSprop without dropout: %.3f s, ratio %.2f; the baseline: ratio %.2f)",
                         adam.epoch, sgemmEpoch, adam.epoch / sgemmEpoch, rmsprop.epoch, rmsprop.epoch / sgemmEpoch, rate / achieved))
        }

        var kerasRatio: Double?
        if compareKeras {
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Scripts/keras_bench.py").path
            let keras = try measure(python, [script, "--data", data, "--epochs", String(epochs)])
            guard keras.status == 0, let line = keras.output.split(separator: "\n").last(where: { $0.hasPrefix("median_epoch ") }),
                  let seconds = Double(line.split(separator: " ")[1])
            else { throw MLPError.usage("the Keras run failed:\n\(keras.output)") }
            kerasRatio = seconds / trained.epoch
            print(String(format: "Keras 3 baseline epoch: median %.3f s; peak memory %.0f MB; mlp-train is %.2f times faster",
                         seconds, keras.peakMB, seconds / trained.epoch))
        }

        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        print("targets:")
        print(String(format: "  baseline epoch <= 0.55 s: %.3f s, %@", trained.epoch, verdict(trained.epoch <= 0.55)))
        print(String(format: "  >= 75%% of the sgemm rate: %.0f%% (%.0f%% with every product computed), %@",
                     100 * achieved / rate, 100 * denseAchieved / rate, verdict(achieved / rate >= 0.75)))
        if let kerasRatio {
            print(String(format: "  >= 2.8 times Keras 3: %.2f, %@", kerasRatio, verdict(kerasRatio >= 2.8)))
        }
        print(String(format: "  mlp-train peak memory <= 450 MB: %.0f MB, %@", trained.peakMB, verdict(trained.peakMB <= 450)))
        print(String(format: "  mlp-eval <= 1 s: %.3f s, %@", evalTime, verdict(evalTime <= 1)))
        if let tuningRatios {
            print(String(format: "  Adam and dropout about as close to the sgemm time as the baseline (within 0.25): %.2f against %.2f, %@",
                         tuningRatios.adam, rate / achieved, verdict(tuningRatios.adam <= rate / achieved + 0.25)))
        }
        if let worst = wideRatios.max() {
            print(String(format: "  wide model within 1.25 times its sgemm time: %.2f at most, %@", worst, verdict(worst <= 1.25)))
        }
    }
}
