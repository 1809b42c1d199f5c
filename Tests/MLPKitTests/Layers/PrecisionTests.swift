import CEngine
import Foundation
@testable import MLPKit
import Testing

/// Keras's mixed_bfloat16 policy and the matrix engines, against Fixtures/precision/golden.json
/// (Fixtures/precision/make.py: TensorFlow's casts, Keras 3's own steps and predictions, and a
/// numpy computation of the arithmetic the toolchain documents).
@Suite struct PrecisionTests {
    static func golden() throws -> [String: Any] { try jsonFixture("precision/golden.json") }

    /// Rounding to bfloat16, the AVX2 pass and the portable one, bit for bit against
    /// TensorFlow's cast (ties to even, overflow to infinity, denormals, NaN as 0x7fc0).
    @Test func roundingMatchesTensorFlow() throws {
        let rounding = try #require(try Self.golden()["rounding"] as? [String: Any])
        let bits = try ints(rounding["float32_bits"]).map(UInt32.init), expected = try ints(rounding["bfloat16_bits"]).map(UInt16.init)
        #expect(bits.count == 220 && expected.count == bits.count)
        let values = bits.map(Float.init(bitPattern:))
        var fast = [UInt16](repeating: 1, count: values.count), portable = fast
        convertToBFloat16(values, &fast, count: values.count)
        mlp_f32_to_bf16_portable(values, &portable, values.count)
        func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
        for index in values.indices where fast[index] != expected[index] || portable[index] != expected[index] {
            Issue.record("\(hex(bits[index])): AVX2 \(hex(fast[index])), portable \(hex(portable[index])), TensorFlow \(hex(expected[index]))")
        }
        // Widening back is exact: every bfloat16 value is a float32 value.
        var widened = [Float](repeating: 0, count: fast.count)
        convertFromBFloat16(fast, &widened, count: fast.count)
        #expect(zip(widened, fast).allSatisfy { $0.bitPattern == UInt32($1) << 16 })
    }

    /// Dense(6→5, relu) → Dense(3, softmax) under mixed_bfloat16 from fixed weights, one SGD step.
    func mixedStep(engine: MatrixEngine) throws -> (loss: Double, after: [[Float]], step: [String: Any]) {
        let step = try #require(try Self.golden()["mixed_step"] as? [String: Any])
        let model = Sequential.mlp(inputShape: [6], hidden: [HiddenLayerSpec(units: 5, activation: .relu)], classes: 3, seed: 0)
        model.setGlobalPolicy(.mixedBFloat16)
        #expect(model.layers.map(\.dtypePolicy) == [.mixedBFloat16, .float32])
        model.compute = ComputeOptions(threads: 1, engine: engine)
        let before = try #require(step["before"] as? [Any])
        #expect(before.count == model.parameters.count)
        for (parameter, values) in checkedZip(model.parameters, before) { try fill(parameter.value, from: values) }
        let x = try floats(step["x"]), labels = try ints(step["labels"]).map(Int32.init)
        let optimizer = SGD(learningRate: Float(try number(step["learning_rate"])))
        optimizer.build(for: model.trainableParameters)
        let result = model.computeGradients(x, labels: labels, rows: labels.count)
        optimizer.apply(to: model.trainableParameters)
        return (result.loss / Double(labels.count), model.parameters.map(\.value.array), step)
    }

    /// The step equals the numpy computation of the documented arithmetic (bfloat16-rounded
    /// input, kernel and dL/dz of the mixed layer, float32 sums) to float32 rounding, on both
    /// engines: oneDNN's bfloat16 kernels where the CPU has them, widened operands elsewhere.
    @Test(arguments: MatrixEngine.allCases)
    func mixedStepMatchesReference(_ engine: MatrixEngine) throws {
        let (loss, after, step) = try mixedStep(engine: engine)
        let reference = try #require(step["reference"] as? [String: Any])
        #expect(abs(loss - (try number(reference["loss"]))) < 2e-6, "loss \(loss)")
        let expected = try #require(reference["after"] as? [Any])
        #expect(expected.count == after.count)
        for (index, (values, golden)) in zip(after, expected).enumerated() {
            let difference = maxDifference(values, try floats(golden))
            #expect(difference < 2e-6, "weight \(index): \(difference)")
        }
    }

    /// Against Keras 3's own mixed_bfloat16 step, which also rounds the mixed layer's outputs
    /// and gradients to bfloat16 where this toolchain keeps float32: within 2^-6 of the
    /// largest update (a few bfloat16 roundings of 2^-9 each, summed over the batch), and
    /// nearer to Keras's bfloat16 step than Keras's float32 step is, or about as near.
    @Test func mixedStepIsNearKerasMixedStep() throws {
        let (loss, after, step) = try mixedStep(engine: .preferred)
        let keras = try #require(step["keras_bf16"] as? [String: Any]), plain = try #require(step["keras_float32"] as? [String: Any])
        let before = try #require(step["before"] as? [Any]), kerasAfter = try #require(keras["after"] as? [Any])
        let plainAfter = try #require(plain["after"] as? [Any])
        try #require(kerasAfter.count == after.count && plainAfter.count == after.count)
        var largestUpdate = 0.0
        for (start, end) in zip(before, plainAfter) { largestUpdate = max(largestUpdate, maxDifference(try floats(start), try floats(end))) }
        #expect(largestUpdate > 0.01)
        for index in after.indices {
            let fromKeras = maxDifference(after[index], try floats(kerasAfter[index]))
            let kerasSpread = maxDifference(try floats(kerasAfter[index]), try floats(plainAfter[index]))
            #expect(fromKeras <= largestUpdate / 64, "weight \(index): \(fromKeras) from Keras's step")
            #expect(fromKeras <= 1.5 * kerasSpread, "weight \(index): \(fromKeras) from Keras's bfloat16 step, \(kerasSpread) between Keras's two")
        }
        #expect(abs(loss - (try number(keras["loss"]))) < 2e-3)
    }

    /// A Keras 3 mixed_bfloat16 file: read with its policies, predicting as Keras did within
    /// 1e-3 (Keras's bfloat16 moves these predictions 3.9e-4 from its float32 ones), and saved
    /// back with the same policies.
    @Test func kerasMixedModelLoads() throws {
        let entry = try #require(try Self.golden()["mixed_model"] as? [String: Any])
        let saved = try ModelFile.load(path: fixture("precision/mixed_bf16.h5"))
        #expect(saved.model.layers.map(\.dtypePolicy) == [.mixedBFloat16, .mixedBFloat16, .float32])
        let predictions = saved.model.predict(try floats(entry["x"]))
        let keras = try floats(entry["predictions"]), plain = try floats(entry["predictions_float32"])
        #expect(predictions.count == 160 && keras.count == 160)
        #expect(maxDifference(predictions, keras) < 1e-3)
        #expect(maxDifference(keras, plain) > 1e-4, "the fixture's bfloat16 and float32 predictions should differ")

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("again.h5").path
        try KerasH5.save(saved, to: path)
        #expect(try ModelFile.load(path: path).model.layers.map(\.dtypePolicy) == [.mixedBFloat16, .mixedBFloat16, .float32])
    }

    /// A policy this toolchain does not run is refused in one line naming it.
    @Test func float16PolicyIsRefused() throws {
        let path = fixture("precision/mixed_float16.h5")
        #expect(FileManager.default.fileExists(atPath: path))
        let inspect = try runTool("mlp-inspect", [path])
        expectCleanFailure(inspect, naming: path, problem: "dtype policy mixed_float16, which is not supported")
    }

    /// `--dtype-policy mixed_bfloat16`: trained with oneDNN's bfloat16 kernels where the CPU
    /// has them, the file recording the policies; refused in one line before loading anything
    /// where it has not; and always trainable with the OpenBLAS engine, which widens.
    @Test func mixedTrainingOnEachCPU() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive = fixture("cifar/cifar-100-python.tar.gz"), output = folder.appendingPathComponent("mixed.h5").path
        let arguments = ["--data", archive, "--dtype-policy", "mixed_bfloat16", "--epochs", "1", "--seed", "3", "-o", output]
        let run = try runTool("mlp-train", arguments + ["--engine", "onednn"])
        if MatrixEngine.supportsBFloat16 {
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try ModelFile.load(path: output).model.layers.map(\.dtypePolicy) == [.mixedBFloat16, .float32])
        } else {
            #expect(run.status != 0 && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(run.stderr.contains("bfloat16") && run.stderr.contains(MatrixEngine.instructionSet), "\(run.stderr)")
            #expect(!run.stdout.contains("train:"), "loaded the data before refusing: \(run.stdout)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let widened = try runTool("mlp-train", arguments + ["--engine", "openblas"])
        #expect(widened.status == 0, "\(widened.stderr)")
        #expect(try ModelFile.load(path: output).model.layers.map(\.dtypePolicy) == [.mixedBFloat16, .float32])
    }

    /// The two engines train the same float32 model to the same weights, up to the order of
    /// float32 sums (SGD, whose steps do not amplify a last-bit difference as RMSprop's division
    /// by a small root can).
    @Test func enginesAgree() throws {
        var results: [[Float]] = []
        for engine in MatrixEngine.allCases {
            let model = Sequential.mlp(inputShape: [64], hidden: [HiddenLayerSpec(units: 32, activation: .relu)], classes: 10, seed: 4)
            model.compute = ComputeOptions(threads: 2, engine: engine)
            var generator = SeededGenerator(seed: 9)
            let x = (0..<(48 * 64)).map { _ in generator.nextUnitFloat() }, labels = (0..<48).map { Int32($0 % 10) }
            let optimizer = SGD(learningRate: 0.05)
            optimizer.build(for: model.trainableParameters)
            for _ in 0..<5 {
                _ = model.computeGradients(x, labels: labels, rows: 48)
                optimizer.apply(to: model.trainableParameters)
            }
            results.append(model.parameters.flatMap(\.value.array))
        }
        #expect(results.count == 2 && results[0].count == 64 * 32 + 32 + 32 * 10 + 10)
        #expect(maxDifference(results[0], results[1]) < 1e-5)
    }
}

/// mixed_bfloat16 on a CPU without bfloat16 in hardware trains with one note saying it is
/// slower, and how much, as measured here; where the CPU has it, no note. oneDNN's kernels
/// capped at AVX-512 without bfloat16 (`ONEDNN_MAX_CPU_ISA`) stand in for such a CPU.
@Suite struct BFloat16NoteTests {
    @Test(.enabled(if: MatrixEngine.instructionSet.hasPrefix("avx512"), "needs a CPU with AVX-512: oneDNN has bfloat16 products only there"))
    func noteWhereBFloat16IsEmulated() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["--data", fixture("cifar/cifar-100-python.tar.gz"), "-o", folder.appendingPathComponent("m.h5").path,
                         "--epochs", "1", "--dtype-policy", "mixed_bfloat16", "--layers", "32:relu", "--seed", "1"]
        let emulated = try runTool("mlp-train", arguments, environment: ["ONEDNN_MAX_CPU_ISA": "AVX512_CORE"])
        #expect(emulated.status == 0, "\(emulated.stderr)")
        let notes = emulated.stdout.split(separator: "\n").filter { $0.hasPrefix("note: this CPU has no bfloat16 in hardware") }
        #expect(notes.count == 1, "\(emulated.stdout)")
        // "at 0.25× the speed of float32's": a measured factor below 1.
        let factor = notes.first.flatMap { line in line.range(of: "at ").flatMap { Double(line[$0.upperBound...].prefix { $0 != "×" }) } }
        #expect(factor.map { $0 > 0 && $0 < 1 } == true, "\(notes)")
        let native = try runTool("mlp-train", arguments)
        #expect(native.status == 0, "\(native.stderr)")
        #expect(native.stdout.contains("no bfloat16 in hardware") == !MatrixEngine.hasNativeBFloat16, "\(native.stdout)")
    }
}
