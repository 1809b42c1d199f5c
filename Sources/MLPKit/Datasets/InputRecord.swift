import Foundation

/// How a model's inputs were made from raw samples, as the files this toolchain saves record
/// it: one sample's shape before flattening, the scaling, the class names, and the size images
/// read from files were resized to. `mlp-predict`, `mlp-eval`, `mlp-inspect` and
/// `mlp-export --raw-input` prepare new data from it as the training data was prepared.
public struct InputRecord: Equatable, Sendable {
    /// One raw sample's shape: [32, 32, 3] (height, width, channels), [28, 28] (grey images
    /// without a channel axis), [5] (features).
    public var shape: [Int]
    public var preprocessing: Preprocessing
    /// Every class's name, by class index.
    public var classNames: [String]
    /// The (height, width) images decoded from files were resized to; nil when not resized.
    public var imageSize: [Int]?

    public init(shape: [Int], preprocessing: Preprocessing, classNames: [String], imageSize: [Int]? = nil) {
        self.shape = shape
        self.preprocessing = preprocessing
        self.classNames = classNames
        self.imageSize = imageSize
    }

    /// What `data`'s training split was made of.
    public init(data: DatasetPair) {
        let split = data.train.count > 0 ? data.train : data.test
        self.init(shape: split.shape, preprocessing: split.preprocessing, classNames: split.classNames, imageSize: data.imageSize)
    }

    /// The record in a saved model's entries (its `RunRecord`'s); nil when they hold none (a
    /// Keras file, or one saved before input shapes were recorded).
    public init?(entries: [String: String]) {
        guard let shapeText = entries[Keys.shape], let shape = Self.integers(shapeText), !shape.isEmpty,
              let preprocessing = entries[Keys.preprocessing].flatMap(Preprocessing.init(rawValue:))
        else { return nil }
        self.shape = shape
        self.preprocessing = preprocessing
        classNames = entries[Keys.classNames].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        imageSize = entries[Keys.imageSize].flatMap(Self.integers)
    }

    /// The entries' names.
    enum Keys {
        static let shape = "input_shape", preprocessing = "preprocessing", classNames = "class_names", imageSize = "image_size"
        static let all = [shape, preprocessing, classNames, imageSize]
        /// The entries that hold JSON.
        static let json = [shape, classNames, imageSize]
    }

    /// The record as a saved model's entries (JSON lists for the shapes and names).
    public var entries: [String: String] {
        var entries = [Keys.shape: JSONValue(shape).text, Keys.preprocessing: preprocessing.rawValue, Keys.classNames: JSONValue(classNames).text]
        if let imageSize { entries[Keys.imageSize] = JSONValue(imageSize).text }
        return entries
    }

    /// Whether the samples are images: pixels scaled by 1/255, (height, width) or (height,
    /// width, 1 or 3 channels).
    public var isImage: Bool {
        preprocessing == .rescale255 && (shape.count == 2 || (shape.count == 3 && [1, 3].contains(shape[2])))
    }

    /// Grey for (height, width) and one-channel images, else RGB.
    public var colorMode: ColorMode { shape.count == 2 || shape.last == 1 ? .grayscale : .rgb }

    /// "32×32×3", "28×28", "5".
    public var shapeText: String { Self.shapeText(shape) }

    /// A shape as "32×32×3", with its value count when it has more than one axis.
    public static func shapeText(_ shape: [Int]) -> String {
        let text = shape.map(String.init).joined(separator: "×")
        return shape.count > 1 ? "\(text) (\(shape.reduce(1, *)) values)" : text
    }

    /// One line, for `mlp-inspect`: "32×32×3 images (3072 values), rgb, rescale 1/255".
    public var description: String {
        let kind = isImage ? "images" : "features"
        var text = "\(Self.shapeText(shape)) \(kind)"
        if isImage { text += ", \(colorMode.rawValue)" }
        if let imageSize { text += ", resized to \(imageSize.map(String.init).joined(separator: "×"))" }
        return text + ", " + preprocessing.rawValue
    }

    /// Refuses data whose samples are not the model's: one line naming both shapes.
    ///
    /// - Parameter path: the model file, named in the error.
    public func checkFits(_ data: ImageDataset, model path: String) throws {
        guard data.featureCount != shape.reduce(1, *) else { return }
        throw MLPError.format(path: path, problem: "was trained on samples of \(Self.shapeText(shape)); "
            + "these are \(Self.shapeText(data.shape))")
    }

    private static func integers(_ text: String) -> [Int]? { try? JSONDecoder().decode([Int].self, from: Data(text.utf8)) }
}
