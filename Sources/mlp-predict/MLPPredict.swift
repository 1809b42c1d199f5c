import ArgumentParser
import Foundation
import MLPCommandLine
import MLPKit

@main
struct MLPPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-predict",
        abstract: "Ask a saved model (.keras or .h5) which classes images are: PNG, JPEG, BMP or GIF files, or folders of them.",
        discussion: """
            Each image is decoded, resized and scaled as the model's training images were, from what its file \
            records: the image size, the colour mode, the 1/255 scaling and the class names. A model Keras saved \
            records none of it: give --image-size (unless its input has image axes) and --class-names. An image of \
            another size than the model takes is resized to it, with a note. A folder is walked in sorted order. An \
            image that cannot be read, or a folder that holds no image, is named on standard error and the rest go \
            on; the exit status is then 1.
            """)

    static func main() { mainReportingOneLine() }

    @Argument(help: "The model file (.keras or .h5).")
    var model: String

    @Argument(help: ArgumentHelp("Image files (.png, .jpg, .jpeg, .bmp, .gif) or folders of them.", valueName: "image-or-folder"))
    var images: [String]

    @Option(parsing: .unconditional, help: "How many of the likeliest classes to show per image (1 to the number of classes).")
    var top = 5

    @Flag(help: "Print each image's prediction set (names and probabilities) by the threshold mlp-eval MODEL --conformal ALPHA -o FILE recorded in the model; --json adds \"set\".")
    var sets = false

    @OptionGroup var output: JSONOption

    @OptionGroup var image: ImageOptions

    @OptionGroup var compute: ComputeOptionGroup

    @Option(help: ArgumentHelp("The class names, one per line (or a JSON list), in class order. Default: the ones the model file records, else the class numbers.", valueName: "file"))
    var classNames: String?

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        guard !images.isEmpty else { throw ValidationError("give at least one image file or folder") }
    }

    func run() throws {
        let saved = try ModelProbe.load(model)
        saved.model.compute = compute.options()
        let names = try classNames.map(Self.readClassNames)
        let predictor = try ImagePredictor(model: saved.model, input: saved.record.input,
                                           imageSize: try image.size(), colorMode: image.colorMode,
                                           classNames: names, source: model)
        for note in predictor.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        let conformal = try sets ? ConformalPredictor.recorded(in: saved.record, model: model) : nil
        var failed = false
        func complain(_ error: Error) {
            FileHandle.standardError.write(Data("mlp-predict: \(error)\n".utf8))
            failed = true
        }
        var files: [String] = []
        for path in images {
            do { files += try ImagePredictor.files(at: path) } catch { complain(error) }
        }
        var resizeNoted = false
        // In batches: a large folder is never held in memory whole.
        for start in stride(from: 0, to: files.count, by: 256) {
            var ready: [(file: String, inputs: [Float])] = []
            for file in files[start..<min(start + 256, files.count)] {
                do {
                    let (values, resizedFrom) = try predictor.inputs(path: file)
                    if let size = resizedFrom, !resizeNoted {
                        resizeNoted = true
                        FileHandle.standardError.write(Data((predictor.resizeNote(file: file, size: size, model: model) + "\n").utf8))
                    }
                    ready.append((file, values))
                } catch { complain(error) }
            }
            report(ready, predictor: predictor, conformal: conformal)
        }
        if failed { throw ExitCode(1) }
    }

    /// Prints each image's likeliest classes, or its prediction set: a line of text, or a JSON
    /// Lines object.
    func report(_ ready: [(file: String, inputs: [Float])], predictor: ImagePredictor, conformal: ConformalPredictor?) {
        let probabilities = predictor.probabilities(ready.map(\.inputs))
        let classes = predictor.classNames.count
        for (row, item) in ready.enumerated() {
            let values = probabilities[(row * classes)..<((row + 1) * classes)]
            let best = predictor.top(min(top, classes), of: values)
            // A set, likeliest first, as the top classes are listed.
            let set = conformal.map { sets -> [(index: Int, name: String, probability: Float)] in
                let members = Set(sets.set(values))
                return predictor.top(classes, of: values).filter { members.contains($0.index) }
            }
            if output.json {
                print(Self.jsonLine(file: item.file, top: best, probabilities: Array(values), set: set))
            } else {
                let shown = set ?? best
                print("\(item.file): " + (set == nil ? "" : "{") + shown.map { "\($0.name) \(String(format: "%.4f", $0.probability))" }
                    .joined(separator: ", ") + (set == nil ? "" : "}"))
            }
        }
    }

    /// One JSON Lines object: `{"file": …, "top": [{"index", "name", "probability"}, …], "probabilities": […]}`,
    /// each probability the shortest decimal that reads back as its float32.
    static func jsonLine(file: String, top: [(index: Int, name: String, probability: Float)], probabilities: [Float],
                         set: [(index: Int, name: String, probability: Float)]? = nil) -> String {
        func number(_ value: Float) -> String { value.isFinite ? "\(value)" : "null" }
        func entries(_ list: [(index: Int, name: String, probability: Float)]) -> String {
            list.map { "{\"index\": \($0.index), \"name\": \(JSONValue.string($0.name).text), \"probability\": \(number($0.probability))}" }
                .joined(separator: ", ")
        }
        return "{\"file\": \(JSONValue.string(file).text), \"top\": [\(entries(top))], "
            + (set.map { "\"set\": [\(entries($0))], " } ?? "")
            + "\"probabilities\": [\(probabilities.map(number).joined(separator: ", "))]}"
    }

    /// Class names from a file: a JSON list of strings, or one name per line.
    static func readClassNames(_ path: String) throws -> [String] {
        let data = try fileBytes(atPath: path, what: "a class-names file")
        let text = String(decoding: data, as: UTF8.self)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") {
            guard let names = try? JSONDecoder().decode([String].self, from: data) else {
                throw MLPError.format(path: path, problem: "is not a JSON list of strings")
            }
            return names
        }
        let names = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let trimmed = Array(names.reversed().drop { $0.isEmpty }.reversed())
        guard !trimmed.isEmpty, !trimmed.contains("") else {
            throw MLPError.format(path: path, problem: "holds an empty line among the class names (one name per line)")
        }
        return trimmed
    }
}
