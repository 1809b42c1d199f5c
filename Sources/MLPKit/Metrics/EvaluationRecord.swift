import Foundation

/// What `mlp-eval MODEL --json` prints, read back: the numbers a model card reports. Names are
/// the JSON's own; numbers that could not be computed (an AUC of a class absent from the
/// holdout set) are JSON null, so nil here.
public struct EvaluationRecord: Decodable {
    public struct Averages: Decodable, Sendable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }

    public struct Confusion: Decodable, Sendable {
        public var actual: String
        public var predicted: String
        public var count: Int

        enum CodingKeys: String, CodingKey {
            case predicted, count
            case actual = "true"
        }
    }

    /// 95% percentile bootstrap intervals (`--ci N`), each [low, high].
    public struct Intervals: Decodable, Sendable {
        public var level: Double
        public var resamples: Int
        public var accuracy: [Double?]
        public var rocAUCMacro: [Double?]
        public var expectedCalibrationError: [Double?]
        public var brierScore: [Double?]

        enum CodingKeys: String, CodingKey {
            case level, resamples, accuracy
            case rocAUCMacro = "roc_auc_ovr_macro"
            case expectedCalibrationError = "expected_calibration_error"
            case brierScore = "brier_score"
        }
    }

    /// The model file and the data, as mlp-eval was given them.
    public var model: String
    /// The SHA-256 of the model file evaluated.
    public var modelSHA256: String
    public var dataset: String
    public var data: String
    public var samples: Int
    public var accuracy: Double
    public var top5Accuracy: Double
    public var rocAUCMacro: Double?
    public var rocAUCWeighted: Double?
    public var logLoss: Double
    public var expectedCalibrationError: Double?
    public var brierScore: Double?
    public var macroAverage: Averages
    public var weightedAverage: Averages
    public var perClass: [EvaluationReport.ClassScore]
    public var mostConfused: [Confusion]
    public var intervals: Intervals?

    enum CodingKeys: String, CodingKey {
        case model, dataset, data, samples, accuracy
        case modelSHA256 = "model_sha256"
        case top5Accuracy = "top5_accuracy"
        case rocAUCMacro = "roc_auc_ovr_macro"
        case rocAUCWeighted = "roc_auc_ovr_weighted"
        case logLoss = "log_loss"
        case expectedCalibrationError = "expected_calibration_error"
        case brierScore = "brier_score"
        case macroAverage = "macro_avg"
        case weightedAverage = "weighted_avg"
        case perClass = "per_class"
        case mostConfused = "most_confused"
        case intervals = "confidence_intervals"
    }

    /// Reads `mlp-eval --json`'s output for one model.
    ///
    /// - Parameter path: the file, named in errors.
    public init(json: Data, path: String) throws {
        do {
            self = try JSONDecoder().decode(EvaluationRecord.self, from: json)
        } catch DecodingError.keyNotFound(let key, _) {
            let hint = JSONValue(parsing: json)?["a"] != nil
                ? " (a comparison of two models; give one model's mlp-eval --json)" : " (give what mlp-eval MODEL --json prints)"
            throw MLPError.format(path: path, problem: "has no \"\(key.stringValue)\"" + hint)
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            let field = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            throw MLPError.format(path: path, problem: field.isEmpty ? "is not what mlp-eval MODEL --json prints"
                                                                    : "\"\(field)\" is not what mlp-eval --json writes there")
        } catch {
            throw MLPError.format(path: path, problem: "is not JSON (give what mlp-eval MODEL --json prints)")
        }
    }

    /// The `count` classes with the lowest ROC AUC, lowest first (classes without one last).
    public func worstClasses(_ count: Int) -> [EvaluationReport.ClassScore] {
        Array(perClass.sorted { ($0.rocAUC ?? .infinity, $0.name) < ($1.rocAUC ?? .infinity, $1.name) }.prefix(count))
    }
}
