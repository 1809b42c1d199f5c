import Foundation
import Testing
@testable import MLPKit

/// The card's own rules; the reports check reads a real card with huggingface_hub.
@Suite struct ModelCardTests {
    static func model() -> CompiledModel {
        CompiledModel(model: Sequential(inputShape: [4], layers: [Dense(name: "dense", inputs: 4, units: 3, activation: .softmax)]))
    }

    /// What mlp-eval --json prints, for three classes.
    static func evaluation(names: [String] = ["a", "b", "c"], aucs: [Any] = [0.9, 0.7, NSNull()]) throws -> Data {
        let perClass = zip(names, aucs).enumerated().map {
            ["index": $0.offset, "name": $0.element.0, "support": 2, "roc_auc": $0.element.1, "precision": 0.5, "recall": 0.5, "f1": 0.5] as [String: Any]
        }
        let averages = ["precision": 0.5, "recall": 0.5, "f1": 0.5]
        let object: [String: Any] = [
            "model": "m.h5", "model_sha256": String(repeating: "ab", count: 32), "dataset": "own", "data": "own.npz", "samples": 6, "accuracy": 0.5, "top5_accuracy": 1.0,
            "roc_auc_ovr_macro": 0.8, "roc_auc_ovr_weighted": 0.8, "log_loss": 0.9, "expected_calibration_error": 0.1, "brier_score": 0.6,
            "macro_avg": averages, "weighted_avg": averages, "per_class": perClass, "most_confused": [] as [Any],
        ]
        return try JSONSerialization.data(withJSONObject: object)
    }

    /// YAML double-quoted scalars: quotes, backslashes and control characters escaped, the rest as it is.
    @Test func yamlQuotesAnyText() throws {
        let card = try ModelCard(saved: Self.model(), path: "m.h5", evaluation: nil)
        #expect(card.yaml("plain") == "\"plain\"")
        #expect(card.yaml("a \"b\" c\\d") == "\"a \\\"b\\\" c\\\\d\"")
        #expect(card.yaml("line\nnext\u{1}") == "\"line\\nnext\\u0001\"")
        #expect(card.yaml("café: #1") == "\"café: #1\"")
    }

    /// A Keras file records no run: no dataset, no model-index, and the card says so.
    @Test func kerasFileGetsArchitectureOnly() throws {
        let text = try ModelCard(saved: Self.model(), path: "dir/m.h5", evaluation: nil).markdown
        #expect(text.hasPrefix("---\nlibrary_name: keras\npipeline_tag: tabular-classification\n"))
        #expect(!text.contains("model-index") && !text.contains("datasets:"))
        #expect(text.contains("# m\n") && text.contains("The file records no training run"))
    }

    /// Worst classes by AUC, a class without one last; an evaluation of other classes refused.
    @Test func evaluationMustMatchTheModel() throws {
        let record = try EvaluationRecord(json: try Self.evaluation(), path: "e.json")
        #expect(record.worstClasses(3).map(\.name) == ["b", "a", "c"])
        let card = try ModelCard(saved: Self.model(), path: "m.h5", evaluation: record)
        #expect(card.markdown.contains("      value: 0.8\n      name: \"ROC AUC (one-vs-rest, macro)\""))
        var named = Self.model()
        named.record.input = InputRecord(shape: [4], preprocessing: .none, classNames: ["a", "b", "x"])
        #expect(throws: MLPError.self) { try ModelCard(saved: named, path: "m.h5", evaluation: record, evaluationPath: "e.json") }
        let four = try EvaluationRecord(json: try Self.evaluation(names: ["a", "b", "c", "d"], aucs: [0.5, 0.5, 0.5, 0.5]), path: "e.json")
        #expect(throws: MLPError.self) { try ModelCard(saved: Self.model(), path: "m.h5", evaluation: four, evaluationPath: "e.json") }
    }

    /// An evaluation records the SHA-256 of the file it scored; a card of another file refuses it.
    @Test func evaluationOfAnotherFileIsRefused() throws {
        let record = try EvaluationRecord(json: try Self.evaluation(), path: "e.json")
        var same = Self.model()
        same.fileSHA256 = record.modelSHA256
        #expect(try ModelCard(saved: same, path: "m.h5", evaluation: record).evaluation != nil)
        var other = Self.model()
        other.fileSHA256 = String(repeating: "cd", count: 32)
        #expect(throws: MLPError.self) { try ModelCard(saved: other, path: "m.h5", evaluation: record, evaluationPath: "e.json") }
    }

    /// A poorly calibrated model (ECE 0.1) gets the command that calibrates it: on its recorded
    /// validation split when it has one (a split of 0 is none), else on --calibration-data.
    @Test func suggestsTheCalibrationItsRecordAllows() throws {
        let record = try EvaluationRecord(json: try Self.evaluation(), path: "e.json")
        for (split, expected) in [("0.0", "mlp-eval m.h5 --temperature-scale --calibration-data DATA -o calibrated.h5"),
                                  ("0.2", "mlp-eval m.h5 --temperature-scale -o calibrated.h5")] {
            var saved = Self.model()
            saved.record = RunRecord(entries: ["options": "{\"epochs\": 5, \"validation_split\": \(split)}"])
            let text = try ModelCard(saved: saved, path: "dir/m.h5", evaluation: record).markdown
            #expect(text.contains("`\(expected)`"), "split \(split)")
        }
    }

    @Test func refusesOtherJSON() {
        for text in ["[1]", "{\"a\": {}, \"b\": {}}", "{\"model\": 3}", "not json"] {
            #expect(throws: MLPError.self) { try EvaluationRecord(json: Data(text.utf8), path: "e.json") }
        }
    }
}
