import Foundation

/// A folder of images, one subfolder per class, read as Keras's
/// `image_dataset_from_directory(..., shuffle=False)` reads it: the classes are the subfolders
/// not starting with "." in code-point order; each class's files are found by walking its
/// subfolder (symbolic links to folders not followed), folders in code-point order of their
/// paths and files in code-point order within each, keeping the names that end in `.bmp`,
/// `.gif`, `.jpeg`, `.jpg` or `.png` in any case. `train/` and `test/` subfolders give the two
/// splits; a folder without them needs `DataRequest.holdoutSplit`, which holds out the last
/// fraction of each class's files. The training images are then put in the order Keras's
/// `shuffle=True, seed=S` gives (`DataRequest.shuffleSeed`); the holdout images keep the sorted
/// order (`shuffle=False`).
///
/// Pixels are decoded as `tf.io.decode_image` decodes them (`DecodedImage`), to RGB or grey,
/// and resized to `DataRequest.imageSize` as `tf.image.resize` does; with no size, every image
/// must have one size. Samples are scaled by 1/255.
public enum ImageFolder: RegisteredDatasetSource {
    public static let title = "an image folder (one subfolder per class, as image_dataset_from_directory reads)"
    /// Read by path only.
    public static let names: [String] = []
    /// The file name endings Keras takes, lowercased.
    public static let extensions = [".bmp", ".gif", ".jpeg", ".jpg", ".png"]

    /// A folder with a class subfolder (of its own, or in `train/`) holding an image.
    public static func recognizes(path: String, isFolder: Bool, head: Data) -> Bool {
        guard isFolder else { return false }
        let root = splitFolders(in: path)?.train ?? path
        return (try? classFolders(in: root))?.contains { holdsImage($0.path, depth: 3) } == true
    }

    public static func load(name: String, request: DataRequest, log: (String) -> Void) throws -> DatasetPair {
        throw MLPError.usage("\(name) is read from a path")
    }

    public static func load(path: String, request: DataRequest) throws -> DatasetPair {
        let folder = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        var train: ImageDataset, test: ImageDataset
        if let splits = splitFolders(in: folder) {
            let trainIndex = try index(splits.train), testIndex = try index(splits.test)
            guard trainIndex.classNames == testIndex.classNames else {
                throw MLPError.format(path: splits.test, problem: "holds the classes \(list(testIndex.classNames)), "
                    + "\(splits.train) holds \(list(trainIndex.classNames)); both splits need the same class subfolders")
            }
            train = try samples(trainIndex.shuffled(request.shuffleSeed).taking(request.splits.train ? Array(trainIndex.files.indices) : []),
                                request: request)
            test = request.splits.test ? try samples(testIndex, request: request) : try samples(testIndex.taking([]), request: request)
        } else {
            guard let fraction = request.holdoutSplit else {
                throw MLPError.format(path: folder, problem: "holds no train/ and test/ subfolders: give --holdout-split F to hold "
                    + "out the last fraction F of each class's images")
            }
            let all = try index(folder)
            var trainFiles: [Int] = [], testFiles: [Int] = []
            for label in all.classNames.indices {
                let members = all.labels.indices.filter { all.labels[$0] == Int32(label) }
                let held = Int(Double(members.count) * fraction)
                trainFiles += members.dropLast(held)
                testFiles += members.suffix(held)
            }
            train = try samples(all.taking(trainFiles).shuffled(request.shuffleSeed).taking(request.splits.train ? Array(trainFiles.indices) : []),
                                request: request)
            test = try samples(all.taking(request.splits.test ? testFiles : []), request: request)
        }
        let shapes = Set([train, test].filter { $0.count > 0 }.map(\.shape))
        if shapes.count > 1 {
            throw MLPError.format(path: folder, problem: "the training images are \(sizeText(train.shape)) and the holdout images "
                + "\(sizeText(test.shape)); give --image-size H,W to resize them all")
        }
        let digest = Digest(.sha256)
        for split in [train, test] { digest.update(Data(split.contentDigest.utf8)) }
        let name = URL(fileURLWithPath: folder).lastPathComponent + " (images\(request.imageSize.map { ", \($0[0])×\($0[1])" } ?? ""), "
            + "\(request.colorMode.rawValue))"
        var pair = DatasetPair(train: train, test: test, name: name, source: folder, checksum: digest.hex, imageSize: request.imageSize,
                               colorMode: request.colorMode)
        pair.shuffleSeed = request.shuffleSeed
        return pair
    }

    /// `folder/train` and `folder/test`, when both are folders.
    static func splitFolders(in folder: String) -> (train: String, test: String)? {
        let train = folder + "/train", test = folder + "/test"
        return isFolder(train) && isFolder(test) ? (train, test) : nil
    }

    /// The files of one split in Keras's order, with their labels.
    struct Index {
        var root: String
        var classNames: [String]
        var files: [String]
        var labels: [Int32]

        func taking(_ positions: [Int]) -> Index {
            Index(root: root, classNames: classNames, files: positions.map { files[$0] }, labels: positions.map { labels[$0] })
        }

        /// The files in the order Keras's `index_directory(shuffle=True, seed=seed)` puts
        /// them: numpy's `RandomState(seed).shuffle` of the sorted list; unchanged for nil.
        func shuffled(_ seed: UInt32?) -> Index {
            guard let seed else { return self }
            var order = Array(files.indices)
            var generator = PythonRandom(numpySeed: seed)
            generator.numpyShuffle(&order)
            return taking(order)
        }
    }

    /// The classes of `root` and every image file of each, as Keras lists them.
    static func index(_ root: String) throws -> Index {
        let classes = try classFolders(in: root)
        guard !classes.isEmpty else {
            throw MLPError.format(path: root, problem: "holds no class subfolders (one subfolder of images per class)")
        }
        let rootReal = realPath(root)
        var files: [String] = [], labels: [Int32] = []
        for (label, folder) in classes.enumerated() {
            let found = try imageFiles(in: folder.path, rootReal: rootReal)
            guard !found.isEmpty else {
                throw MLPError.format(path: folder.path, problem: "class '\(folder.name)' holds no images (\(extensions.joined(separator: " ")))")
            }
            files += found
            labels += Array(repeating: Int32(label), count: found.count)
        }
        return Index(root: root, classNames: classes.map(\.name), files: files, labels: labels)
    }

    /// The subfolders of `root` not starting with ".", in code-point order.
    static func classFolders(in root: String) throws -> [(name: String, path: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: root)
        } catch {
            throw MLPError.io(path: root, problem: "cannot list the folder")
        }
        return names.filter { !$0.hasPrefix(".") && isFolder(root + "/" + $0) }.sorted(by: codePointOrder).map { ($0, root + "/" + $0) }
    }

    /// The image files under `folder`, as `os.walk` (not following links to folders) lists them,
    /// ordered by folder path and then by name. A link to a folder that holds it (or to `root`)
    /// is a loop, refused; other links to folders are skipped, as Keras skips them.
    static func imageFiles(in folder: String, rootReal: String) throws -> [String] {
        /// Whether a folder whose real path is `target` holds `real` (or is it).
        func leadsBack(_ target: String, from real: String) -> Bool { real == target || real.hasPrefix(target + "/") }
        let top = realPath(folder)
        if leadsBack(top, from: rootReal) {
            throw MLPError.format(path: folder, problem: "a folder symlink loop: it leads back to \(top)")
        }
        var walked: [(folder: String, files: [String])] = []
        var pending = [folder]
        while let current = pending.popLast() {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: current) } catch {
                throw MLPError.io(path: current, problem: "cannot list the folder")
            }
            let real = realPath(current)
            var files: [String] = []
            for name in names {
                let path = current + "/" + name
                if !isFolder(path) {
                    if extensions.contains(where: { name.lowercased().hasSuffix($0) }) { files.append(name) }
                } else if !isSymbolicLink(path) {
                    pending.append(path)
                } else if case let target = realPath(path), leadsBack(target, from: real) || leadsBack(target, from: rootReal) {
                    throw MLPError.format(path: path, problem: "a folder symlink loop: it leads back to \(target)")
                }
            }
            walked.append((current, files.sorted(by: codePointOrder)))
        }
        return walked.sorted { codePointOrder($0.folder, $1.folder) }.flatMap { entry in entry.files.map { entry.folder + "/" + $0 } }
    }

    /// Decodes the files of `index` into samples, on the machine's cores.
    static func samples(_ index: Index, request: DataRequest) throws -> ImageDataset {
        let channels = request.colorMode.channels
        let count = index.files.count
        var decoded = [Result<DecodedImage, Error>?](repeating: nil, count: count)
        decoded.withUnsafeMutableBufferPointer { results in
            let threads = min(ProcessInfo.processInfo.activeProcessorCount, count)
            parallelRanges(count, pieces: threads, alignment: 1) { range in
                for position in range {
                    results[position] = Result { try DecodedImage(path: index.files[position], colorMode: request.colorMode) }
                }
            }
        }
        let images = try decoded.map { try $0!.get() }
        if let size = request.imageSize {
            var features = [Float]()
            features.reserveCapacity(count * size[0] * size[1] * channels)
            for image in images { features += image.resized(to: size).map { $0 / 255 } }
            return ImageDataset(features: features, labels: index.labels, shape: [size[0], size[1], channels], classNames: index.classNames,
                                preprocessing: .rescale255)
        }
        let shape = images.first.map { [$0.height, $0.width, channels] } ?? [0, 0, channels]
        if let odd = images.firstIndex(where: { [$0.height, $0.width, channels] != shape }) {
            throw MLPError.format(path: index.files[odd], problem: "is \(sizeText([images[odd].height, images[odd].width])) where "
                + "\(index.files[0]) is \(sizeText(shape)); give --image-size H,W to resize them all")
        }
        return ImageDataset(images: images.flatMap(\.pixels), labels: index.labels, shape: shape, classNames: index.classNames)
    }

    static func sizeText(_ shape: [Int]) -> String { shape.count >= 2 ? "\(shape[0])×\(shape[1]) pixels" : "\(shape)" }

    static func list(_ names: [String]) -> String { "[" + names.joined(separator: ", ") + "]" }

    /// Python's string order: by Unicode code points.
    static func codePointOrder(_ a: String, _ b: String) -> Bool { a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) }

    static func isFolder(_ path: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &folder) && folder.boolValue
    }

    static func isSymbolicLink(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeSymbolicLink
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether an image file lies within `depth` folders below `folder` (links not followed).
    static func holdsImage(_ folder: String, depth: Int) -> Bool {
        guard depth > 0, let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return false }
        for name in names.prefix(10_000) {
            let path = folder + "/" + name
            if isFolder(path) {
                if !isSymbolicLink(path), holdsImage(path, depth: depth - 1) { return true }
            } else if extensions.contains(where: { name.lowercased().hasSuffix($0) }) {
                return true
            }
        }
        return false
    }
}
