
/// What lies between a sample's raw values and the model's inputs, recorded in saved models so
/// that a new image can be prepared as the training images were.
public enum Preprocessing: String, Sendable {
    /// Values used as they are (features).
    case none
    /// Pixel values 0...255 divided by 255.
    case rescale255 = "rescale 1/255"
}

/// Labelled samples: images kept as bytes, each sample `shape` (height, width, channels) values
/// in 0...255, stored row-major (height × width × channel, Keras's channels-last order); or
/// features kept as floats, used as they are.
///
/// Images are converted to floats in [0, 1] only when used, so 50,000 CIFAR images take
/// 150 MB rather than 600 MB. Slices share storage with their parent.
public struct ImageDataset: Sendable {
    /// (count, featureCount) bytes, of which this view covers samples `start..<start + count`;
    /// empty for features.
    public let storage: [UInt8]
    /// (count, featureCount) floats, for features rather than images; empty for images.
    public let features: [Float]
    /// Labels of every sample in `storage`, class indices from 0.
    public let storageLabels: [Int32]
    /// The first sample of `storage` this view covers.
    public let start: Int
    /// Samples in this view.
    public let count: Int
    /// One sample's shape: [32, 32, 3] for CIFAR-100 (height, width, channels).
    public let shape: [Int]
    /// Every class's name, by class index (the archive's `meta` names).
    public let classNames: [String]
    /// How raw values became the model's inputs: for images kept as bytes, applied as they are
    /// used; for features, already applied (resized images are kept as scaled floats).
    public let preprocessing: Preprocessing

    public init(images: [UInt8], labels: [Int32], shape: [Int], classNames: [String]) {
        precondition(images.count == labels.count * shape.reduce(1, *), "images and labels disagree")
        storage = images
        features = []
        storageLabels = labels
        start = 0
        count = labels.count
        self.shape = shape
        self.classNames = classNames
        preprocessing = .rescale255
    }

    /// Samples of float features (an `.npz` of floats, or resized images already scaled, as
    /// `preprocessing` says), used as they are.
    public init(features: [Float], labels: [Int32], shape: [Int], classNames: [String], preprocessing: Preprocessing = .none) {
        precondition(features.count == labels.count * shape.reduce(1, *), "features and labels disagree")
        storage = []
        self.features = features
        storageLabels = labels
        start = 0
        count = labels.count
        self.shape = shape
        self.classNames = classNames
        self.preprocessing = preprocessing
    }

    /// Whether the samples are images (bytes scaled by 1/255 when used) rather than features.
    public var isImages: Bool { features.isEmpty }

    private init(parent: ImageDataset, range: Range<Int>) {
        storage = parent.storage
        features = parent.features
        storageLabels = parent.storageLabels
        start = parent.start + range.lowerBound
        count = range.count
        shape = parent.shape
        classNames = parent.classNames
        preprocessing = parent.preprocessing
    }

    /// Values per sample: 3,072 for CIFAR-100.
    public var featureCount: Int { shape.reduce(1, *) }
    public var classCount: Int { classNames.count }
    /// This view's labels, indexed as `storageLabels` (from `start`).
    public var labels: ArraySlice<Int32> { storageLabels[start..<(start + count)] }

    /// Samples `range` of this view, sharing storage.
    public func slice(_ range: Range<Int>) -> ImageDataset { ImageDataset(parent: self, range: range) }

    /// Keras's `validation_split`: the last `fraction` of the samples, taken before any shuffle.
    public func splitValidation(fraction: Double) -> (train: ImageDataset, validation: ImageDataset) {
        let cut = Int((Double(count) * (1 - fraction)).rounded(.down))
        return (slice(0..<cut), slice(cut..<count))
    }

    /// The samples in `order` (positions in this view), copied into storage of their own.
    public func reordered(_ order: [Int]) -> ImageDataset {
        let width = featureCount
        let labels = order.map { storageLabels[start + $0] }
        if isImages {
            var bytes = [UInt8](repeating: 0, count: order.count * width)
            bytes.withUnsafeMutableBufferPointer { target in
                storage.withUnsafeBufferPointer { source in
                    for (row, index) in order.enumerated() {
                        (target.baseAddress! + row * width).update(from: source.baseAddress! + (start + index) * width, count: width)
                    }
                }
            }
            return ImageDataset(images: bytes, labels: labels, shape: shape, classNames: classNames)
        }
        var values = [Float](repeating: 0, count: order.count * width)
        values.withUnsafeMutableBufferPointer { target in
            features.withUnsafeBufferPointer { source in
                for (row, index) in order.enumerated() {
                    (target.baseAddress! + row * width).update(from: source.baseAddress! + (start + index) * width, count: width)
                }
            }
        }
        return ImageDataset(features: values, labels: labels, shape: shape, classNames: classNames, preprocessing: preprocessing)
    }

    /// The samples in the order `numpy.random.RandomState(seed).shuffle` puts their indices:
    /// the order `image_dataset_from_directory(shuffle=True, seed=seed)` lists a folder's files.
    public func shuffled(seed: UInt32) -> ImageDataset {
        var order = Array(0..<count)
        var generator = PythonRandom(numpySeed: seed)
        generator.numpyShuffle(&order)
        return reordered(order)
    }

    /// Classes of the last `fraction` (Keras's `validation_split`) that the samples before it
    /// never show, and how many classes the last part holds.
    public func classesOnlyInValidation(fraction: Double) -> (unseen: Int, held: Int) {
        let split = splitValidation(fraction: fraction)
        let held = Set(split.validation.labels), trained = Set(split.train.labels)
        return (held.subtracting(trained).count, held.count)
    }

    /// Writes samples `indices` (positions in this view) as floats `byte / 255` (features as
    /// they are) into `output`, (indices.count, featureCount), and their labels into `labels`.
    /// Large batches are converted on `threads` cores.
    public func fill<C: Collection<Int>>(
        _ indices: C, into output: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>, threads: Int = 1
    ) where C.Index == Int {
        let width = featureCount, first = indices.startIndex
        if !isImages {
            features.withUnsafeBufferPointer { values in
                for row in 0..<indices.count {
                    let index = indices[first + row]
                    (output + row * width).update(from: values.baseAddress! + (start + index) * width, count: width)
                    labels[row] = storageLabels[start + index]
                }
            }
            return
        }
        storage.withUnsafeBufferPointer { bytes in
            parallelChunks(indices.count, threads: threads, minimumChunk: 32) { rows in
                for row in rows {
                    let index = indices[first + row]
                    let source = bytes.baseAddress! + (start + index) * width
                    let target = output + row * width
                    // Division, not multiplication by 1/255, to give the notebook's exact floats.
                    Kernels.bytesToUnit(source, target, count: width)
                    labels[row] = storageLabels[start + index]
                }
            }
        }
    }

    /// Samples per class, indexed by class.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels where Int(label) < counts.count { counts[Int(label)] += 1 }
        return counts
    }

    /// SHA-256 of the samples' bytes followed by their labels (each a little-endian Int32):
    /// the same for the same images and labels whichever file layout they were read from.
    public var contentDigest: String {
        let digest = Digest(.sha256)
        if isImages {
            storage.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[(start * featureCount)..<((start + count) * featureCount)])) }
        } else {
            features.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[(start * featureCount * 4)..<((start + count) * featureCount * 4)])) }
        }
        labels.map { $0.littleEndian }.withUnsafeBytes { digest.update($0) }
        return digest.hex
    }

    /// A short report of per-class counts with their minimum and maximum.
    public func balanceReport(title: String) -> String {
        let counts = classCounts()
        guard let low = counts.min(), let high = counts.max() else { return "\(title): no samples" }
        let lowName = classNames[counts.firstIndex(of: low)!], highName = classNames[counts.firstIndex(of: high)!]
        var lines = ["\(title): \(count) images, \(classCount) classes, per class min \(low) (\(lowName)), max \(high) (\(highName))"]
        if low == high {
            lines[0] += ", balanced"
        } else {
            let items = counts.enumerated().map { "\(classNames[$0.offset]) \($0.element)" }
            for chunk in stride(from: 0, to: items.count, by: 10) {
                lines.append("  " + items[chunk..<min(chunk + 10, items.count)].joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// A training set and its holdout set, with where they came from.
public struct DatasetPair: Sendable {
    /// The 50,000 training images (CIFAR-100's `train` split).
    public var train: ImageDataset
    /// The 10,000 holdout images (CIFAR-100's `test` split); never used to train or tune.
    public var test: ImageDataset
    /// "cifar100", "synthetic", ...
    public var name: String
    /// The archive or folder read, or "synthetic".
    public var source: String
    /// SHA-256 of the bytes read, in hex.
    public var checksum: String
    /// The (height, width) images decoded from files were resized to; nil when not resized.
    public var imageSize: [Int]?
    /// How images decoded from files were decoded; nil for data not decoded from image files.
    public var colorMode: ColorMode?
    /// The seed the training images of a folder were shuffled with (`DataRequest.shuffleSeed`).
    public var shuffleSeed: UInt32?

    public init(train: ImageDataset, test: ImageDataset, name: String, source: String, checksum: String, imageSize: [Int]? = nil,
                colorMode: ColorMode? = nil) {
        self.train = train
        self.test = test
        self.name = name
        self.source = source
        self.checksum = checksum
        self.imageSize = imageSize
        self.colorMode = colorMode
    }

    /// Refuses a validation split whose validation part holds classes the training part never
    /// shows: data stored in class order, whose last fraction is whole classes.
    ///
    /// - Parameter flag: how the split was given, as the refusal names it.
    public func checkValidationSplit(_ fraction: Double, flag: String = "--validation-split") throws {
        guard fraction > 0, fraction < 1 else { return }
        let (unseen, _) = train.classesOnlyInValidation(fraction: fraction)
        guard unseen > 0 else { return }
        let held = train.splitValidation(fraction: fraction).validation.count
        throw MLPError.format(path: source, problem: "\(flag) \(pythonFloat(fraction)): its validation part, the last \(held) of "
            + "\(train.count) training images, holds \(unseen) class\(unseen == 1 ? "" : "es") that the training part never shows (the data is in "
            + "class order); give --shuffle-seed N to shuffle the training images first")
    }
}
