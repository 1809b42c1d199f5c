import Foundation
import Testing
@testable import MLPKit

/// Prediction sets against MAPIE 1.6's own (Fixtures/conformal/make.py): the same quantile and
/// the same set for every test sample, for LAC and APS at three levels, on 7 classes and on 100
/// classes with probabilities that are exactly 0.
@Suite struct ConformalTests {
    @Test func setsEqualMAPIEs() throws {
        let fixture = try jsonFixture("conformal/cases.json")
        let cases = try #require(fixture["cases"] as? [[String: Any]])
        #expect(cases.count == 2)
        var compared = 0
        for item in cases {
            let name = item["name"] as? String ?? "?"
            let classes = try #require(item["classes"] as? Int), calibration = try #require(item["calibration"] as? Int)
            let rows = try #require(item["probabilities"] as? [[String]])
            let probabilities = rows.flatMap { $0.map { Float($0) ?? .nan } }
            #expect(!probabilities.contains { $0.isNaN } && probabilities.count == rows.count * classes)
            let labels = try ints(item["labels"])
            let seed = try #require(item["seed"] as? Int)
            let results = try #require(item["results"] as? [String: [String: Any]])
            #expect(results.count == 6, "\(name)")
            for (key, expected) in results {
                let parts = key.split(separator: "/")
                let score = try #require(ConformalPredictor.Score(rawValue: String(parts[0])))
                let alpha = try #require(Double(String(parts[1])))
                let predictor = try ConformalPredictor.fit(probabilities: Array(probabilities.prefix(calibration * classes)),
                                                           labels: Array(labels.prefix(calibration)), classes: classes, alpha: alpha,
                                                           score: score, seed: UInt32(seed))
                let text = try #require(expected["quantile"] as? String)
                let quantile = try #require(Double(text))
                #expect(abs(predictor.quantile - quantile) <= 1e-9, "\(name) \(key): \(predictor.quantile) vs \(quantile)")
                let sets = try #require(expected["sets"] as? [[Int]])
                #expect(sets.count == labels.count - calibration)
                for (row, set) in sets.enumerated() {
                    let start = (calibration + row) * classes
                    #expect(predictor.set(probabilities[start..<(start + classes)]) == set, "\(name) \(key) sample \(row)")
                }
                compared += 1
            }
        }
        #expect(compared == 12)
    }

    /// mlp-eval --conformal counts the sets mlp-predict --sets prints: on an image folder's
    /// holdout images, the sets mlp-predict gives make mlp-eval's size histogram and coverage.
    @Test func predictShowsTheSetsEvalCounts() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = fixture("images/folder")
        let train = try runTool("mlp-train", ["--data", data, "-o", "m.h5", "--validation-split", "0.5", "--epochs", "20", "--seed", "1", "--image-size", "8,8"],
                                in: folder)
        #expect(train.status == 0, "\(train.stderr)")
        let eval = try runTool("mlp-eval", ["m.h5", "--conformal", "0.3", "-o", "cal.h5", "--json"], in: folder)
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let conformal = try #require(report["conformal"] as? [String: Any])
        let histogram = try ints(conformal["set_size_histogram"])
        let predict = try runTool("mlp-predict", ["cal.h5", data + "/test", "--sets", "--json"], in: folder)
        #expect(predict.status == 0, "\(predict.stderr)")
        var sizes = [Int](repeating: 0, count: histogram.count), covered = 0, count = 0
        for line in predict.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let set = try #require(object["set"] as? [[String: Any]]).compactMap { $0["name"] as? String }
            let file = try #require(object["file"] as? String)
            // The class is the folder under test/.
            let truth = file.components(separatedBy: "/test/").last?.split(separator: "/").first.map(String.init)
            if set.count < sizes.count { sizes[set.count] += 1 } else { sizes.append(set.count) }
            if let truth, set.contains(truth) { covered += 1 }
            count += 1
        }
        #expect(count == report["samples"] as? Int)
        #expect(sizes == histogram, "\(sizes) vs \(histogram)")
        let coverage = try #require((conformal["coverage"] as? NSNumber)?.doubleValue)
        #expect(abs(Double(covered) / Double(count) - coverage) < 1e-12)
        let refused = try runTool("mlp-predict", ["m.h5", data + "/test", "--sets"], in: folder)
        expectCleanFailure(refused, naming: "m.h5", problem: "records no prediction-set threshold")
    }

    /// Alpha outside (0, 1) and too few samples for alpha are refused.
    @Test func refusals() {
        let p: [Float] = [0.9, 0.1, 0.2, 0.8]
        for alpha in [0.0, 1.0, -0.1, 1.5] {
            #expect(throws: MLPError.self) { try ConformalPredictor.fit(probabilities: p, labels: [0, 1], classes: 2, alpha: alpha, score: .lac) }
        }
        // ⌈(2 + 1) · 0.9⌉ = 3 > 2 samples: at least 9 are needed for alpha 0.1.
        #expect(throws: MLPError.self) { try ConformalPredictor.fit(probabilities: p, labels: [0, 1], classes: 2, alpha: 0.1, score: .lac) }
    }
}
