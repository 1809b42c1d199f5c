import Foundation

/// Asks a model about image files: each is decoded, resized and scaled as the model's training
/// images were (the `InputRecord` its file keeps), or, for a model that records nothing (one
/// Keras saved), as its input shape and the caller's image size say.
public struct ImagePredictor {
    public let model: Sequential
    /// One image's shape as the model takes it: [height, width, channels] or [height, width].
    public let shape: [Int]
    public let colorMode: ColorMode
    /// The (height, width) every image is resized to, as `tf.image.resize` does; nil: images of
    /// `shape`'s size go in as they are, and others are resized to it.
    public let imageSize: [Int]?
    /// Whether pixels are divided by 255 before the model sees them (false when the model
    /// starts with its own `Rescaling`).
    public let rescales: Bool
    /// Every class's name, by index.
    public let classNames: [String]
    /// What was assumed for a model that records nothing, for the caller to show.
    public private(set) var notes: [String] = []

    /// - Parameters:
    ///   - input: what the model's file records of its inputs; nil for a file that records nothing.
    ///   - imageSize: resize every image to this (height, width), overriding the record.
    ///   - colorMode: decode to RGB or grey, overriding the record.
    ///   - classNames: the classes' names, overriding the record.
    ///   - source: the model file, named in errors.
    public init(model: Sequential, input: InputRecord?, imageSize: [Int]?, colorMode: ColorMode?, classNames: [String]?,
                source: String) throws {
        self.model = model
        var shape: [Int]
        if let input {
            guard input.isImage else {
                throw MLPError.format(path: source, problem: "was trained on \(input.description), not images")
            }
            shape = input.shape
            rescales = true
            self.imageSize = imageSize ?? input.imageSize
        } else {
            let scaledInside = model.layers.contains { $0 is Rescaling }
            rescales = !scaledInside
            if model.inputShape.count >= 2 {
                shape = model.inputShape
                self.imageSize = imageSize ?? [shape[0], shape[1]]
            } else if let imageSize {
                let channels = model.inputWidth / max(imageSize[0] * imageSize[1], 1)
                guard [1, 3].contains(channels), channels * imageSize[0] * imageSize[1] == model.inputWidth else {
                    throw MLPError.format(path: source, problem: "takes \(model.inputWidth) values, which is not "
                        + "\(imageSize[0])×\(imageSize[1]) images of 1 or 3 channels")
                }
                shape = imageSize + [channels]
                self.imageSize = imageSize
            } else {
                throw MLPError.format(path: source, problem: "records no image shape (a Keras file): give --image-size HEIGHT,WIDTH")
            }
            notes.append("\(source) records no preprocessing: " + (scaledInside ? "pixels go in as 0 to 255, its Rescaling scales them"
                : "pixels are divided by 255, as the training images of this toolchain and the notebook are"))
        }
        if let colorMode, colorMode != (shape.count == 2 || shape.last == 1 ? .grayscale : .rgb) {
            shape = [shape[0], shape[1], colorMode.channels]
        }
        if let size = self.imageSize { shape = [size[0], size[1]] + shape.dropFirst(2) }
        guard shape.reduce(1, *) == model.inputWidth else {
            throw MLPError.format(path: source, problem: "takes \(model.inputWidth) values per image, not "
                + "\(InputRecord.shapeText(shape)) images")
        }
        self.shape = shape
        self.colorMode = shape.count == 2 || shape.last == 1 ? .grayscale : .rgb
        let names = classNames ?? input?.classNames ?? []
        if names.isEmpty {
            self.classNames = (0..<model.outputWidth).map(String.init)
        } else {
            guard names.count == model.outputWidth else {
                throw MLPError.format(path: source, problem: "has \(model.outputWidth) classes; \(names.count) class names were given")
            }
            self.classNames = names
        }
    }

    /// The model's inputs for the image at `path`: decoded, resized and scaled, `shape` values;
    /// with the image's own (height, width) when it was resized to the model's size without
    /// `imageSize` asking for it, for the caller to note.
    public func inputs(path: String) throws -> (values: [Float], resizedFrom: [Int]?) {
        let image = try DecodedImage(path: path, colorMode: colorMode)
        let scale: Float = rescales ? 255 : 1
        if let imageSize { return (image.resized(to: imageSize).map { $0 / scale }, nil) }
        guard image.height == shape[0], image.width == shape[1] else {
            return (image.resized(to: [shape[0], shape[1]]).map { $0 / scale }, [image.height, image.width])
        }
        return (image.pixels.map { Float($0) / scale }, nil)
    }

    /// Probabilities for the images whose `inputs` are given, (count, classes) row-major: the
    /// model's outputs, or their softmax when its last activation is not softmax.
    public func probabilities(_ inputs: [[Float]]) -> [Float] {
        var outputs = model.predict(inputs.flatMap { $0 }, batchSize: 256)
        if !model.endsInSoftmax, !inputs.isEmpty {
            outputs.withUnsafeMutableBufferPointer { p in
                Activation.softmax.forward(p.baseAddress!, p.baseAddress!, rows: inputs.count, width: model.outputWidth)
            }
        }
        return outputs
    }

    /// The `k` likeliest classes of one image's `probabilities`, likeliest first (ties by index).
    public func top(_ k: Int, of probabilities: ArraySlice<Float>) -> [(index: Int, name: String, probability: Float)] {
        let first = probabilities.startIndex
        return probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || probabilities[$0] == probabilities[$1] && $0 < $1 }
            .prefix(k).map { ($0 - first, classNames[$0 - first], probabilities[$0]) }
    }

    /// The image files a path names: the file itself, or a folder's image files (`.bmp .gif
    /// .jpeg .jpg .png`) walked as `ImageFolder` walks a class, in sorted order.
    public static func files(at path: String) throws -> [String] {
        guard ImageFolder.isFolder(path) else { return [path] }
        let folder = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        // Links back to the folder or above it are loops; the folder's parent stands as the root.
        let parent = URL(fileURLWithPath: ImageFolder.realPath(folder)).deletingLastPathComponent().path
        let files = try ImageFolder.imageFiles(in: folder, rootReal: parent)
        guard !files.isEmpty else {
            throw MLPError.format(path: path, problem: "holds no images (\(ImageFolder.extensions.joined(separator: " ")))")
        }
        return files
    }

    /// The note for the first image resized without `imageSize` asking for it.
    public func resizeNote(file: String, size: [Int], model: String) -> String {
        let own = "\(shape[0])×\(shape[1])"
        return "note: \(file) is \(size[0])×\(size[1]) pixels; it and every other image not \(own) are resized to the \(own) "
            + "\(model) takes, as tf.image.resize does (bilinear)"
    }
}
