import Foundation
import Testing
@testable import MLPKit

/// `mlp-predict` against `mlp-eval` on the same images (decoding itself is checked against
/// TensorFlow in ImageFileTests, and the whole path against Keras in Tests/Harness/data_check.py):
/// the same probabilities, the JSON Lines shape, and bad images named and passed over.
@Suite(.serialized) struct PredictTests {
    /// A model trained on the fixture folder, resized to 6×5, and that folder's holdout images.
    static func trained(in folder: URL) throws -> (model: String, holdout: [String]) {
        let model = folder.appendingPathComponent("m.h5").path
        let trained = try runTool("mlp-train", ["--data", fixture("images/folder"), "--image-size", "6,5", "-o", model,
                                                "--epochs", "2", "--batch-size", "4", "--seed", "7"])
        try #require(trained.status == 0, "\(trained.stderr)")
        return (model, try ImagePredictor.files(at: fixture("images/folder/test")))
    }

    @Test func predictsWhatEvalPredicts() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (model, holdout) = try Self.trained(in: folder)
        let npy = folder.appendingPathComponent("p.npy").path
        let eval = try runTool("mlp-eval", [model, "--data", fixture("images/folder"), "--predictions", npy])
        try #require(eval.status == 0, "\(eval.stderr)")
        let expected = try NPY.decode(Data(contentsOf: URL(fileURLWithPath: npy)), path: npy).floats ?? []
        let result = try runTool("mlp-predict", [model, fixture("images/folder/test"), "--json", "--top", "2"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(lines.map { $0["file"] as? String } == holdout)
        let probabilities = try lines.flatMap { try floats($0["probabilities"]) }
        #expect(probabilities.count == 18 && maxDifference(probabilities, expected) == 0)
        // The top entries: index, name and probability, likeliest first.
        let top = try #require(lines.first?["top"] as? [[String: Any]])
        let first = Array(expected.prefix(3)), best = first.indices.max { first[$0] < first[$1] }!
        #expect(top.count == 2 && top[0]["index"] as? Int == best)
        #expect(top[0]["name"] as? String == ["Banana", "apple", "cherry"][best])
        #expect((top[0]["probability"] as? NSNumber)?.floatValue == first[best])
    }

    @Test func badImagesAreNamedAndTheRestGoOn() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (model, _) = try Self.trained(in: folder)
        let truncated = fixture("images/bad/truncated.jpg"), good = fixture("images/decode/rgb.png")
        let result = try runTool("mlp-predict", [model, truncated, good, "--top", "1"])
        #expect(result.status == 1)
        #expect(result.stderr == "mlp-predict: \(truncated): a corrupt JPEG: Premature end of JPEG file\n", "\(result.stderr)")
        #expect(result.stdout.hasPrefix(good + ": ") && result.stdout.split(separator: "\n").count == 1, "\(result.stdout)")
    }

    /// A model Keras saved records nothing: its 32×32×3 input sets the size, its Rescaling the
    /// scale, and --class-names the names; a flat model needs --image-size.
    @Test func kerasModelsTakeTheirShapeAndNames() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let names = folder.appendingPathComponent("names.txt").path
        try "ant\nbee\ncicada\ndragonfly\nearwig\n".write(toFile: names, atomically: true, encoding: .utf8)
        let image = fixture("images/decode/photo.jpg")
        let result = try runTool("mlp-predict", [fixture("keras/k3_image_bn_rmsprop.h5"), image, "--class-names", names, "--top", "5"])
        #expect(result.status == 0 && result.stderr.contains("records no preprocessing"), "\(result.stderr)")
        let shown = result.stdout.dropFirst(image.count + 2).split(separator: ",").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(Set(shown) == ["ant", "bee", "cicada", "dragonfly", "earwig"], "\(result.stdout)")
        try "ant\nbee\n".write(toFile: names, atomically: true, encoding: .utf8)
        expectCleanFailure(try runTool("mlp-predict", [fixture("keras/k3_image_bn_rmsprop.h5"), image, "--class-names", names]),
                           naming: "k3_image_bn_rmsprop.h5", problem: "has 5 classes; 2 class names were given")
        expectCleanFailure(try runTool("mlp-predict", [fixture("keras/k3_mlp_adam.h5"), image]),
                           naming: "k3_mlp_adam.h5", problem: "give --image-size")
    }

    /// Data of another shape than the model's: one line naming both.
    @Test func evalRefusesDataOfAnotherShape() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (model, _) = try Self.trained(in: folder)
        expectCleanFailure(try runTool("mlp-eval", [model, "--data", "synthetic"]), naming: model,
                           problem: "was trained on samples of 6×5×3 (90 values); these are 32×32×3 (3072 values)")
    }
}
