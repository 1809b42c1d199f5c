import ArgumentParser
import MLPKit

/// `--json`, as every tool that reports takes it.
public struct JSONOption: ParsableArguments {
    @Flag(help: "Print JSON instead of text: one object (mlp-predict: one per image, as JSON Lines).")
    public var json = false

    public init() {}
}

/// How images read from files are made into samples: `--image-size` and `--color-mode`, as the
/// tools that read image folders or image files take them.
public struct ImageOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Resize every image to HEIGHT,WIDTH as tf.image.resize does (bilinear). Default: the size the model file "
                               + "records, else no resizing (the images must then have one size).", valueName: "height,width"))
    public var imageSize: String?

    @Option(help: "Decode images to rgb, or grayscale (one channel). Default: what the model file records, else rgb.")
    public var colorMode: ColorMode?

    public init() {}

    public func validate() throws { _ = try size() }

    /// `--image-size HEIGHT,WIDTH`, checked: each 1 to 4096.
    public func size() throws -> [Int]? {
        guard let imageSize else { return nil }
        let parts = imageSize.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let height = parts[0], let width = parts[1], (1...4096).contains(height), (1...4096).contains(width) else {
            throw ValidationError("--image-size must be HEIGHT,WIDTH, each 1 to 4096, got '\(imageSize)'")
        }
        return [height, width]
    }
}
