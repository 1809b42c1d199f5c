import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-inspect",
        abstract: "Show a saved model's layers, output shapes and parameter counts, like Keras's model.summary(), and what the file records.")

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5), written by this toolchain or by Keras; or an ONNX file (.onnx).")
    var model: String

    @Flag(help: "Add per-weight statistics: shape, min, max, mean, standard deviation, NaN and infinite counts.")
    var weights = false

    @OptionGroup var output: JSONOption

    @Option(help: ArgumentHelp("Write a Hugging Face model card (README.md of a model repository): YAML front matter with library_name, datasets, metrics and model-index results, then the model, its training and, with --eval, its evaluation.", valueName: "file.md"))
    var modelCard: String?

    @Option(name: .customLong("eval"), help: ArgumentHelp("With --model-card: what mlp-eval MODEL --json [--ci N] printed for this model, for the card's results, intervals, calibration and worst classes.", valueName: "eval.json"))
    var evaluation: String?

    func validate() throws {
        if evaluation != nil, modelCard == nil { throw ValidationError("--eval goes with --model-card") }
        if modelCard != nil, output.json || weights { throw ValidationError("--model-card writes a card; leave out --json and --weights") }
    }

    func run() throws {
        if let modelCard { try OutputName.check(modelCard, flag: "model-card", formats: OutputName.markdown) }
        let record = try evaluation.map { try EvaluationRecord(json: try fileBytes(atPath: $0, what: "mlp-eval's JSON"), path: $0) }
        let bytes = try ModelFile.bytes(atPath: model)
        if ONNXFile.isONNX(bytes, path: model) {
            if modelCard != nil {
                throw MLPError.format(path: model, problem: "is an ONNX file; a model card is written from the .keras or .h5 file it was exported from")
            }
            if weights {
                FileHandle.standardError.write(Data("mlp-inspect: note: --weights describes a .keras or .h5 model's weights; an ONNX file's are counted below\n".utf8))
            }
            let description = try ONNXFile.describe(bytes, path: model)
            return print(output.json ? description.json(path: model).text : description.text(path: model))
        }
        _ = try ModelFormats.identify(bytes, path: model)
        // libhdf5 reads a damaged file in a child process first; this process then reads the
        // bytes it already has.
        try ModelProbe.probe(model)
        let saved = try ModelFile.load(bytes, path: model)
        if let modelCard {
            let card = try ModelCard(saved: saved, path: model, evaluation: record, evaluationPath: evaluation ?? "")
            try AtomicFile.write(Data(card.markdown.utf8), to: modelCard)
            return print("wrote \(modelCard): a model card of \(model)" + (evaluation.map { " with the evaluation in \($0)" } ?? ""))
        }
        let inspection = ModelInspection(saved: saved, path: model, weights: weights)
        print(output.json ? inspection.json.text : inspection.text)
    }
}
