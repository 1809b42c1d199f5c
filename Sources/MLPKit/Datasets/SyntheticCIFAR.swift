import Foundation

/// A generated, CIFAR-shaped set for offline demos and benchmarks: 50,000 + 10,000 images of
/// 32×32×3 bytes in 100 balanced classes (20 in coarse mode), the same on every run.
///
/// Each class has a smooth colour prototype (an 8×8×3 grid of random levels, each cell covering
/// 4×4 pixels). An image blends its class's prototype with a random other class's (30 to 60%),
/// shifts its brightness and adds per-pixel noise, so an MLP learns it well above chance
/// without reaching certainty.
public enum SyntheticCIFAR: RegisteredDatasetSource {
    /// Names the generator in provenance, so a file trained on generated data says which.
    public static let version = "synthetic-v1"
    public static let title = "the built-in synthetic set (--data synthetic)"
    public static let names = ["synthetic"]

    /// Generated only: never read from a path.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool { false }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        throw MLPError.io(path: path, problem: "the synthetic set is generated, not read")
    }

    /// The 50,000 + 10,000 images, or only the splits asked for.
    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        make(labelMode: request.labelMode, trainCount: request.splits.train ? 50_000 : 0, testCount: request.splits.test ? 10_000 : 0)
    }

    /// The generated set with `trainCount` training and `testCount` holdout images, the same on every run.
    public static func make(labelMode: LabelMode = .fine, trainCount: Int = 50_000, testCount: Int = 10_000) -> DatasetPair {
        let classes = labelMode.classCount
        var generator = SeededGenerator(seed: 0x5EED_C1FA_2100)
        let prototypes = (0..<classes).map { _ in prototype(&generator) }
        func split(_ count: Int, _ seed: UInt64) -> ImageDataset {
            var g = SeededGenerator(seed: seed)
            var images = [UInt8](repeating: 0, count: count * 3072)
            var labels = [Int32](repeating: 0, count: count)
            images.withUnsafeMutableBufferPointer { out in
                for n in 0..<count {
                    let label = n % classes
                    labels[n] = Int32(label)
                    let other = (label + 1 + g.nextInt(below: classes - 1)) % classes
                    let w = 0.3 + 0.3 * g.nextUnitFloat()
                    let shift = (g.nextUnitFloat() - 0.5) * 0.3
                    let own = prototypes[label], mix = prototypes[other]
                    let row = out.baseAddress! + n * 3072
                    for j in 0..<3072 {
                        let noise = (g.nextUnitFloat() - 0.5) * 0.6
                        let v = (1 - w) * own[j] + w * mix[j] + shift + noise
                        row[j] = UInt8(min(max(v, 0), 1) * 255)
                    }
                }
            }
            let names = (0..<classes).map { "synthetic_\($0)" }
            return ImageDataset(images: images, labels: labels, shape: CIFAR100.imageShape, classNames: names)
        }
        return DatasetPair(train: split(trainCount, 1), test: split(testCount, 2), name: "\(version)-\(labelMode.rawValue)",
                           source: "synthetic", checksum: version)
    }

    /// 32×32×3 values in [0, 1], constant over 4×4 blocks.
    static func prototype(_ g: inout SeededGenerator) -> [Float] {
        let grid = (0..<(8 * 8 * 3)).map { _ in g.nextUnitFloat() }
        var image = [Float](repeating: 0, count: 3072)
        for h in 0..<32 {
            for w in 0..<32 {
                for c in 0..<3 { image[(h * 32 + w) * 3 + c] = grid[((h / 4) * 8 + w / 4) * 3 + c] }
            }
        }
        return image
    }
}
