import Foundation
import Testing
@testable import MLPKit

/// What a new user hits, run as the user runs it: each test is one of the breaks a fresh clone
/// showed, and fails without its fix.
@Suite struct NewUserTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    /// An `.npz` of `classes` × `perClass` float features stored in class order (class 0's
    /// samples first), with a holdout set of every fourth sample.
    static func classOrdered(at path: String, classes: Int = 5, perClass: Int = 40) throws {
        let count = classes * perClass
        let x = (0..<(count * 6)).map { i in Float(i / (perClass * 6)) + Float((i * 7919) % 13) / 13 }
        let y = (0..<count).map { Int32($0 / perClass) }
        let held = Array(stride(from: 0, to: count, by: 4))
        let members: [(name: String, data: Data)] = [
            ("x_train.npy", NPY.encode(x, shape: [count, 6])), ("y_train.npy", NPY.encode(int32s: y, shape: [count])),
            ("x_test.npy", NPY.encode(held.flatMap { x[($0 * 6)..<($0 * 6 + 6)] }, shape: [held.count, 6])),
            ("y_test.npy", NPY.encode(int32s: held.map { y[$0] }, shape: [held.count])),
        ]
        try ZipArchive.archive(members, path: path).write(to: URL(fileURLWithPath: path))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// 1. A model card refuses the evaluation of another model: evaluations record the SHA-256
    /// of the file they scored (hashlib's, here), and the card checks it.
    @Test func modelCardRefusesAnotherModelsEvaluation() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, seed) in [("a.h5", "1"), ("b.h5", "2")] {
            let train = try runTool("mlp-train", ["--data", archive, "-o", name, "--epochs", "1", "--seed", seed], in: folder)
            #expect(train.status == 0, "\(train.stderr)")
        }
        let evalB = try runTool("mlp-eval", ["b.h5", "--json"], in: folder)
        #expect(evalB.status == 0, "\(evalB.stderr)")
        try Data(evalB.stdout.utf8).write(to: folder.appendingPathComponent("eval-b.json"))
        #expect(try json(evalB.stdout)["model_sha256"] as? String == hashlibDigest("sha256", of: folder.appendingPathComponent("b.h5").path))
        let refused = try runTool("mlp-inspect", ["a.h5", "--model-card", "card.md", "--eval", "eval-b.json"], in: folder)
        expectCleanFailure(refused, naming: "eval-b.json", problem: "evaluates another model (b.h5")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("card.md").path))
        let accepted = try runTool("mlp-inspect", ["b.h5", "--model-card", "card.md", "--eval", "eval-b.json"], in: folder)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    /// 2. Data stored in class order: a validation split holding classes the training part
    /// lacks is refused before training and before a search's first trial; `--shuffle-seed`
    /// shuffles an `.npz` too, and the search records it.
    @Test func classOrderedSplitIsRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.classOrdered(at: folder.appendingPathComponent("g.npz").path)
        // The last 20% of 5 classes × 40 in order is class 4 alone: one class unseen in training.
        let train = try runTool("mlp-train", ["--data", "g.npz", "-o", "m.h5", "--validation-split", "0.2", "--epochs", "1"], in: folder)
        expectCleanFailure(train, naming: "g.npz", problem: "holds 1 class that the training part never shows")
        #expect(train.stderr.contains("--shuffle-seed"))
        // A split of 0.1 cuts class 4 in two: nothing unseen, but one class of five held out, and
        // the note names the data.
        let partial = try runTool("mlp-train", ["--data", "g.npz", "-o", "m.h5", "--validation-split", "0.1", "--epochs", "1"], in: folder)
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stdout.contains("note: the validation split holds 1 of the 5 classes (g.npz looks stored in class order)"),
                "\(partial.stdout)")
        let tune = try runTool("mlp-tune", ["--data", "g.npz", "--output-dir", "s", "--trials", "2", "--epochs", "1"], in: folder)
        expectCleanFailure(tune, naming: "g.npz", problem: "holds 1 class that the training part never shows")
        #expect(!tune.stdout.contains("trial 0"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("s/trials").path))

        let shuffled = try runTool("mlp-tune", ["--data", "g.npz", "--output-dir", "s", "--trials", "1", "--epochs", "1", "--shuffle-seed", "3"],
                                   in: folder)
        #expect(shuffled.status == 0, "\(shuffled.stderr)")
        let record = try json(String(decoding: try Data(contentsOf: folder.appendingPathComponent("s/search.json")), as: UTF8.self))
        #expect((record["data"] as? [String: Any])?["shuffle_seed"] as? Int == 3)
        let trained = try runTool("mlp-train", ["--data", "g.npz", "-o", "m.h5", "--validation-split", "0.2", "--epochs", "1",
                                                "--shuffle-seed", "3"], in: folder)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(!trained.stdout.contains("image_dataset_from_directory"))
    }

    /// 2. The order `--shuffle-seed` gives other data than folders: numpy's
    /// `np.random.RandomState(seed).shuffle` of the indices (values printed by numpy 2.4).
    @Test func shuffleIsNumpys() {
        let labels = (0..<10).map { Int32($0) }
        let data = ImageDataset(features: labels.map(Float.init), labels: labels, shape: [1], classNames: (0..<10).map(String.init))
        // np.arange(10); np.random.RandomState(3).shuffle(o)
        #expect(Array(data.shuffled(seed: 3).labels) == [5, 4, 1, 2, 9, 6, 7, 0, 3, 8])
        #expect(data.shuffled(seed: 3).features == [5, 4, 1, 2, 9, 6, 7, 0, 3, 8])
        let many = ImageDataset(features: [Float](repeating: 0, count: 200), labels: (0..<200).map { Int32($0) }, shape: [1], classNames: ["a"])
        // np.arange(200); np.random.RandomState(1).shuffle(o); o[:12]
        #expect(Array(many.shuffled(seed: 1).labels.prefix(12)) == [58, 40, 34, 102, 184, 198, 95, 4, 29, 168, 171, 18])
    }

    /// 3. A data path given relative to one folder: the model records it absolute and relative
    /// to itself, so mlp-eval finds it from the parent folder, and after both were moved; gone,
    /// it is one line, with no fallback to CIFAR-100.
    @Test func recordedDataIsFoundFromAnotherFolder() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let work = folder.appendingPathComponent("d")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try Self.classOrdered(at: work.appendingPathComponent("g.npz").path)
        let train = try runTool("mlp-train", ["--data", "g.npz", "-o", "m.h5", "--epochs", "1"], in: work)
        #expect(train.status == 0, "\(train.stderr)")
        let fromParent = try runTool("mlp-eval", ["d/m.h5", "--json"], in: folder)
        #expect(fromParent.status == 0, "\(fromParent.stderr)")
        #expect(try json(fromParent.stdout)["samples"] as? Int == 50)
        try FileManager.default.moveItem(at: work, to: folder.appendingPathComponent("e"))
        let moved = try runTool("mlp-eval", ["e/m.h5", "--json"], in: folder)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stderr.contains("/e/g.npz, which e/m.h5 records"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("e/g.npz"))
        let gone = try runTool("mlp-eval", ["e/m.h5"], environment: ["HOME": folder.path, "KERAS_HOME": folder.path + "/keras"], in: folder)
        expectCleanFailure(gone, naming: "g.npz", problem: "is not there")
        #expect(!gone.stdout.contains("CIFAR") && !gone.stdout.contains("download"))
    }

    /// 4. A new search says so on its first line; --resume-only refuses to start one, in a
    /// folder and in a database study.
    @Test func aNewSearchSaysSo() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.classOrdered(at: folder.appendingPathComponent("g.npz").path)
        let options = ["--data", "g.npz", "--trials", "1", "--epochs", "1", "--shuffle-seed", "1"]
        let typo = try runTool("mlp-tune", ["--output-dir", "serach", "--resume-only"] + options, in: folder)
        expectCleanFailure(typo, naming: "serach", problem: "--resume-only")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("serach").path))
        let first = try runTool("mlp-tune", ["--output-dir", "search"] + options, in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.split(separator: "\n").first == "new search in search/")
        let again = try runTool("mlp-tune", ["--output-dir", "search", "--resume-only", "--trials", "2"], in: folder)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(!again.stdout.contains("new search"))

        let url = "sqlite:///" + folder.appendingPathComponent("s.db").path
        let made = try runTool("mlp-tune", ["--output-dir", "w", "--storage", url, "--study-name", "q"] + options, in: folder)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.split(separator: "\n").first == "new study 'q' in \(url)")
        let wrongStudy = try runTool("mlp-tune", ["--output-dir", "w", "--storage", url, "--study-name", "qq", "--resume-only"], in: folder)
        expectCleanFailure(wrongStudy, naming: "'qq'", problem: "there is no study")
        #expect(wrongStudy.stderr.contains("'q'"))
    }

    /// 5. A folder with no images is an error naming it, not an empty answer.
    @Test func predictOnAFolderWithoutImages() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        let train = try runTool("mlp-train", ["--data", fixture("numpy/images.npz"), "-o", model, "--epochs", "1"])
        #expect(train.status == 0, "\(train.stderr)")
        for (name, files) in [("empty", [String]()), ("notes", ["a.txt"])] {
            let sub = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            for file in files { try Data("x".utf8).write(to: sub.appendingPathComponent(file)) }
            let result = try runTool("mlp-predict", [model, sub.path])
            expectCleanFailure(result, naming: sub.path, problem: "holds no images")
        }
    }

    /// 6. A model of 8×8 grey images, trained on arrays, takes an image of another size by
    /// resizing it, with a note, as it would with --image-size 8,8; mlp-eval resizes a folder
    /// the same way.
    @Test func imagesOfAnotherSizeAreResized() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("m.h5").path
        let train = try runTool("mlp-train", ["--data", fixture("numpy/images.npz"), "-o", model, "--epochs", "1"])
        #expect(train.status == 0, "\(train.stderr)")
        let photo = fixture("images/decode/rgb16.png")
        let resized = try runTool("mlp-predict", [model, photo, "--json"])
        #expect(resized.status == 0, "\(resized.stderr)")
        #expect(resized.stderr.contains("resized to the 8×8"), "\(resized.stderr)")
        let asked = try runTool("mlp-predict", [model, photo, "--json", "--image-size", "8,8"])
        #expect(asked.status == 0, "\(asked.stderr)")
        #expect(resized.stdout == asked.stdout && !asked.stdout.isEmpty)
        // A folder of three classes of RGB images: decoded grey and sized as the model takes them.
        let eval = try runTool("mlp-eval", [model, "--data", fixture("images/folder"), "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stderr.contains("are resized to the 8×8 \(model) takes"), "\(eval.stderr)")
        #expect(try json(eval.stdout)["samples"] as? Int == 6)
    }

    /// 7. Every file a tool writes is named as it is written.
    @Test func writtenFilesAreNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = try runTool("mlp-train", ["--data", archive, "-o", "m.h5", "--epochs", "1", "--validation-split", "0.2",
                                              "--history", "h.csv", "--plot", "h.svg", "--tensorboard", "logs"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("saved m.h5; wrote h.csv, h.svg, logs"), "\(train.stdout)")
        let eval = try runTool("mlp-eval", ["m.h5", "--roc-plot", "roc.svg", "--confusion", "c.csv", "--reliability", "r.svg",
                                            "--predictions", "p.npy"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.hasSuffix("wrote roc.svg, c.csv, r.svg, p.npy\n"), "\(eval.stdout)")
        for file in ["h.csv", "h.svg", "logs", "roc.svg", "c.csv", "r.svg", "p.npy"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), "\(file)")
        }
    }

    /// 8. What wrote a file: this toolchain's tool and version, in Keras's format, not Keras;
    /// a calibrated model's temperature in the text view and as a number in the JSON.
    @Test func provenanceSaysWhatWroteTheFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = try runTool("mlp-train", ["--data", "synthetic", "-o", "m.h5", "--epochs", "2", "--validation-split", "0.2"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        let text = try runTool("mlp-inspect", ["m.h5"], in: folder)
        #expect(text.stdout.contains("written by      mlp-train, mlp \(mlpVersion); in Keras \(KerasH5.kerasVersion)'s file format"), "\(text.stdout)")
        let eval = try runTool("mlp-eval", ["m.h5"], in: folder)
        #expect(eval.stdout.contains("\nm.h5 (mlp-train, mlp \(mlpVersion)) on"), "\(eval.stdout)")
        let keras = try runTool("mlp-inspect", [fixture("keras/k3_mlp_adam.h5")])
        #expect(keras.stdout.contains("written by      Keras 3."), "\(keras.stdout)")
        let calibrate = try runTool("mlp-eval", ["m.h5", "--temperature-scale", "-o", "c.h5", "--json"], in: folder)
        #expect(calibrate.status == 0, "\(calibrate.stderr)")
        let fitted = try #require((try json(calibrate.stdout)["temperature_scaling"] as? [String: Any])?["temperature"] as? Double)
        let calibrated = try runTool("mlp-inspect", ["c.h5"], in: folder)
        let shown = try #require(calibrated.stdout.split(separator: "\n").first { $0.hasPrefix("temperature     ") })
        let value = try #require(Double(shown.dropFirst(16).prefix { $0 != ":" }))
        #expect(abs(value - fitted) <= 1e-12 * fitted, "\(shown)")
        #expect(calibrated.stdout.contains("written by      mlp-eval --temperature-scale, mlp"))
        let inspected = try json(try runTool("mlp-inspect", ["c.h5", "--json"], in: folder).stdout)
        let recorded = try #require((inspected["provenance"] as? [String: Any])?["temperature"] as? Double)
        #expect(abs(recorded - fitted) <= 1e-12 * fitted)
    }

    /// 9. An interval whose ends round to zero at four decimals gets the decimals that show them.
    @Test func smallDifferencesShowTheirDigits() {
        let format = ComparisonResult.signedFormat([2.9e-5, 1.1e-5, 4.7e-5])
        #expect([format(2.9e-5), format(1.1e-5), format(4.7e-5)] == ["+0.000029", "+0.000011", "+0.000047"])
        let usual = ComparisonResult.signedFormat([0.0123, -0.004, 0.03])
        #expect(usual(-0.004) == "-0.0040")
        #expect(ComparisonResult.signedFormat([1e-12])(1e-12) == "+1.00e-12")
    }

    /// 10. mlp-eval's bootstrap seed and ROC chart have names of their own; the former ones
    /// still work, with a note. --resume's --epochs counts the epochs added, and says so.
    @Test func flagsMeanOneThing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = try runTool("mlp-train", ["--data", "synthetic", "-o", "m.h5", "--epochs", "2"], in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        let new = try runTool("mlp-eval", ["m.h5", "--ci", "20", "--bootstrap-seed", "5", "--json"], in: folder)
        let old = try runTool("mlp-eval", ["m.h5", "--ci", "20", "--seed", "5", "--json", "--plot", "roc.svg"], in: folder)
        #expect(new.status == 0 && old.status == 0, "\(new.stderr) \(old.stderr)")
        #expect(new.stdout == old.stdout)
        #expect(old.stderr.contains("note: --seed is now --bootstrap-seed") && old.stderr.contains("note: --plot is now --roc-plot"))
        let both = try runTool("mlp-eval", ["m.h5", "--seed", "5", "--bootstrap-seed", "5"], in: folder)
        #expect(both.status != 0 && both.stderr.contains("former name"))
        let resumed = try runTool("mlp-train", ["--resume", "m.h5", "-o", "more.h5", "--epochs", "3"], in: folder)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("going on from epoch 2: 3 more epochs (--epochs counts those added), to epoch 5"))
        #expect(resumed.stdout.contains("Epoch 5/5"))
    }

    /// 11. A truncated .h5 says how many bytes it has and how many its superblock records.
    @Test func truncatedH5SaysHowShort() throws {
        let source = fixture("keras/k3_mlp_adam.h5")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        #expect(HDF5.recordedLength(of: bytes) == bytes.count)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cut = folder.appendingPathComponent("cut.h5").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        let result = try runTool("mlp-inspect", [cut])
        expectCleanFailure(result, naming: cut, problem: "is truncated: it has \(bytes.count / 2) bytes and its HDF5 superblock says \(bytes.count)")
    }
}
