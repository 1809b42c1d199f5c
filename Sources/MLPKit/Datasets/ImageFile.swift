import CImage
import Foundation

/// One decoded image: (height, width, channels) bytes, row-major, channels last.
public struct DecodedImage: Sendable {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var pixels: [UInt8]

    /// Reads and decodes the PNG, JPEG, BMP or GIF (its first frame) at `path` as TensorFlow's
    /// `tf.io.decode_image` does, to RGB or grey. The header's size is checked before the
    /// pixels are allocated; a damaged, truncated or unknown file is one line naming it.
    public init(path: String, colorMode: ColorMode) throws {
        try self.init(bytes: try fileBytes(atPath: path, what: "an image"), path: path, colorMode: colorMode)
    }

    /// Decodes `bytes`, read from `path` (named in errors).
    public init(bytes: Data, path: String, colorMode: ColorMode) throws {
        var info = mlp_image_info()
        var error = [CChar](repeating: 0, count: 256)
        let channels = colorMode.channels
        let (status, pixels): (Int32, [UInt8]) = bytes.withUnsafeBytes { raw in
            let data = raw.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!
            guard mlp_image_probe(data, raw.count, &info, &error, error.count) == 0 else { return (-1, []) }
            let count = Int(info.width) * Int(info.height) * channels
            var pixels = [UInt8](repeating: 0, count: count)
            let status = pixels.withUnsafeMutableBufferPointer {
                mlp_image_decode(data, raw.count, Int32(channels), $0.baseAddress, count, &error, error.count)
            }
            return (status, pixels)
        }
        guard status == 0 else { throw MLPError.format(path: path, problem: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        height = Int(info.height)
        width = Int(info.width)
        self.channels = channels
        self.pixels = pixels
    }

    /// The image resized to `size` (height, width) as `tf.image.resize` does by default:
    /// bilinear, half-pixel centres, no antialiasing, computed in float32; values stay in 0...255.
    ///
    /// Each output pixel (y, x) reads the input at (y + 0.5) · scale − 0.5 (scale = in / out,
    /// likewise for x), clamped to the image, and mixes its four neighbours: first across, then down.
    public func resized(to size: [Int]) -> [Float] {
        let (outHeight, outWidth) = (size[0], size[1])
        struct Tap { var lower: Int, upper: Int, lerp: Float }
        func taps(_ inSize: Int, _ outSize: Int) -> [Tap] {
            let scale = Float(inSize) / Float(outSize)
            return (0..<outSize).map { index in
                let position = (Float(index) + 0.5) * scale - 0.5
                let floor = position.rounded(.down)
                return Tap(lower: max(Int(floor), 0), upper: min(Int(position.rounded(.up)), inSize - 1), lerp: position - floor)
            }
        }
        let rows = taps(height, outHeight), columns = taps(width, outWidth)
        var output = [Float](repeating: 0, count: outHeight * outWidth * channels)
        let stride = width * channels
        for (y, row) in rows.enumerated() {
            for (x, column) in columns.enumerated() {
                for c in 0..<channels {
                    func at(_ r: Int, _ k: Int) -> Float { Float(pixels[r * stride + k * channels + c]) }
                    let topLeft = at(row.lower, column.lower), topRight = at(row.lower, column.upper)
                    let bottomLeft = at(row.upper, column.lower), bottomRight = at(row.upper, column.upper)
                    let top = topLeft + (topRight - topLeft) * column.lerp
                    let bottom = bottomLeft + (bottomRight - bottomLeft) * column.lerp
                    output[(y * outWidth + x) * channels + c] = top + (bottom - top) * row.lerp
                }
            }
        }
        return output
    }
}
