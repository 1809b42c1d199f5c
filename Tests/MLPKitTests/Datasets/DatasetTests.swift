import Foundation
import Testing
import CKernels
@testable import MLPKit

@Suite struct DatasetTests {
    static let archives = ["cifar/cifar-100-python.tar.gz", "cifar/cifar-100-binary.tar.gz"]

    /// Every pixel of the first images, the labels and the class names, against what Keras's
    /// own `load_batch` and `load_data`'s transpose made of the same files.
    @Test(arguments: archives)
    func archiveMatchesKeras(_ archive: String) throws {
        let expected = try jsonFixture("cifar/cifar_expected.json")
        let pair = try CIFAR100.load(path: fixture(archive))
        for (split, data) in [("train", pair.train), ("test", pair.test)] {
            let info = try #require(expected[split] as? [String: Any])
            #expect(data.count == info["count"] as? Int)
            #expect(Array(data.labels.prefix(10)) == (try ints(info["fine_labels"])).map(Int32.init))
            let images = try #require(info["first_images_hwc"] as? [[Int]])
            for (n, pixels) in images.enumerated() {
                let row = Array(data.storage[(n * 3072)..<((n + 1) * 3072)]).map(Int.init)
                #expect(row == pixels, "\(split) image \(n) differs from Keras's (32, 32, 3) order")
            }
            // The notebook's float vector: x.reshape(-1, 3072).astype("float32") / 255.
            var vector = [Float](repeating: 0, count: 3072), label: Int32 = 0
            data.fill([0], into: &vector, labels: &label)
            let sum = vector.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - ((info["first_vector_sum"] as? NSNumber)?.doubleValue ?? .nan)) < 1e-9)
        }
        #expect(pair.train.classNames == expected["fine_label_names"] as? [String])
    }

    @Test(arguments: archives)
    func coarseLabels(_ archive: String) throws {
        let expected = try #require(try jsonFixture("cifar/cifar_expected.json")["train"] as? [String: Any])
        let pair = try CIFAR100.load(path: fixture(archive), labelMode: .coarse)
        #expect(pair.train.classCount == 20)
        #expect(Array(pair.train.labels.prefix(10)) == (try ints(expected["coarse_labels"])).map(Int32.init))
        #expect(pair.train.classNames.first == "coarse_00")
    }

    /// The extracted folders read the same as the archives.
    @Test(arguments: archives)
    func extractedFolder(_ archive: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", fixture(archive), "-C", folder.path]
        try tar.run()
        tar.waitUntilExit()
        let fromFolder = try CIFAR100.load(path: folder.path)
        let fromArchive = try CIFAR100.load(path: fixture(archive))
        #expect(fromFolder.train.storage == fromArchive.train.storage)
        #expect(Array(fromFolder.test.labels) == Array(fromArchive.test.labels))
        #expect(fromFolder.train.classNames == fromArchive.train.classNames)
    }

    /// Evaluation reads only the holdout split and the names.
    @Test(arguments: archives)
    func holdoutOnly(_ archive: String) throws {
        let full = try CIFAR100.load(path: fixture(archive))
        let holdout = try CIFAR100.load(path: fixture(archive), splits: .holdoutOnly)
        #expect(holdout.train.count == 0 && holdout.checksum.isEmpty)
        #expect(holdout.test.storage == full.test.storage && holdout.test.classNames == full.test.classNames)
        #expect(full.checksum == (try hashlibDigest("sha256", of: fixture(archive))))
    }

    /// A folder's checksum lists each file read with its SHA-256, as hashlib computes it.
    @Test func folderChecksumNamesEachFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try extract(Self.archives[0], into: folder)
        let files = folder.appendingPathComponent("cifar-100-python")
        let expected = try ["meta", "train", "test"].map { "\($0):\(try hashlibDigest("sha256", of: files.appendingPathComponent($0).path))" }
        #expect(try CIFAR100.load(path: folder.path).checksum == expected.joined(separator: " "))
    }

    /// The inflater gives exactly what Python's gzip module gives, read in pieces of every size
    /// from 1 byte to 1 MB, and reads concatenated gzip members as one stream, as gzip does.
    @Test func inflatesAsGzipDoes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive = fixture(Self.archives[0])
        let plain = folder.appendingPathComponent("plain").path, joined = folder.appendingPathComponent("joined.gz").path
        _ = try python("""
            import gzip, sys
            data = gzip.open(sys.argv[1]).read()
            open(sys.argv[2], 'wb').write(data)
            cut = len(data) // 3
            open(sys.argv[3], 'wb').write(gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
            """, [archive, plain, joined])
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain)))
        #expect(expected.count > 500_000)
        for path in [archive, joined] {
            let reader = try CompressedFileReader(path: path)
            #expect(reader.isGzip)
            var out: [UInt8] = [], size = 1
            while out.count < expected.count {
                out += try reader.read(count: min(size, expected.count - out.count))
                size = size >= 1 << 20 ? 1 : size * 5 + 3
            }
            #expect(out == expected, "\(path)")
            // The stream ends where gzip's does.
            #expect(throws: MLPError.self) { _ = try reader.read(count: 1) }
        }
        // Read as they are, without inflating, the bytes are the file's.
        let raw = try CompressedFileReader(path: archive, inflating: false)
        #expect(try raw.read(count: raw.fileSize) == [UInt8](Data(contentsOf: URL(fileURLWithPath: archive))))
    }

    func extract(_ archive: String, into folder: URL) throws {
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", fixture(archive), "-C", folder.path]
        try tar.run()
        tar.waitUntilExit()
    }

    @Test func validationSplitTakesTheLastFraction() throws {
        let pair = try CIFAR100.load(path: fixture(Self.archives[0]))
        let (train, validation) = pair.train.splitValidation(fraction: 0.2)
        #expect(train.count == 240 && validation.count == 60)
        #expect(Array(validation.labels) == Array(pair.train.labels.suffix(60)))
    }

    /// Every byte value becomes byte / 255 as float32 division gives it (numpy's
    /// `x.astype("float32") / 255`), in rows whose width is not a multiple of the vector width.
    @Test func bytesBecomeTheNotebooksFloats() {
        let bytes = (0..<(3 * 263)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 263) }
        let data = ImageDataset(images: bytes, labels: [0, 1, 2], shape: [263], classNames: ["a", "b", "c"])
        var out = [Float](repeating: -1, count: bytes.count)
        var labels = [Int32](repeating: -1, count: 3)
        out.withUnsafeMutableBufferPointer { o in
            labels.withUnsafeMutableBufferPointer { l in data.fill([2, 0, 1], into: o.baseAddress!, labels: l.baseAddress!) }
        }
        let expected = [2, 0, 1].flatMap { row in bytes[(row * 263)..<((row + 1) * 263)].map { Float($0) / Float(255) } }
        #expect(out == expected)
        #expect(Set(bytes).count == 256 && labels == [2, 0, 1])
        var portable = [Float](repeating: -1, count: bytes.count)
        mlp_bytes_to_unit_portable(bytes, &portable, bytes.count)
        #expect(portable == bytes.map { Float($0) / Float(255) })
    }

    @Test func syntheticIsDeterministicAndBalanced() {
        let a = SyntheticCIFAR.make(trainCount: 1000, testCount: 200)
        let b = SyntheticCIFAR.make(trainCount: 1000, testCount: 200)
        #expect(a.train.storage == b.train.storage)
        #expect(a.train.classCounts() == [Int](repeating: 10, count: 100))
        #expect(a.test.classCounts() == [Int](repeating: 2, count: 100))
    }

    // MARK: Bad input

    func writeTemporary(_ bytes: [UInt8], name: String) throws -> (URL, String) {
        let folder = try temporaryFolder()
        let path = folder.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return (folder, path)
    }

    func expectFormatError(_ path: String, _ problem: String, _ body: () throws -> Void,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error for \(problem)", sourceLocation: sourceLocation)
        } catch let error as MLPError {
            let text = error.description
            #expect(text.contains(path) && text.contains(problem), "\(text)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedGzip() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture(Self.archives[0]))))
        let (folder, path) = try writeTemporary(Array(bytes.prefix(bytes.count / 2)), name: "cut.tar.gz")
        defer { try? FileManager.default.removeItem(at: folder) }
        expectFormatError(path, "truncated gzip data") { _ = try CIFAR100.load(path: path) }
    }

    @Test func corruptGzip() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture(Self.archives[0]))))
        for i in stride(from: 1000, to: 1100, by: 1) { bytes[i] ^= 0x5A }
        let (folder, path) = try writeTemporary(bytes, name: "bad.tar.gz")
        defer { try? FileManager.default.removeItem(at: folder) }
        expectFormatError(path, "corrupt gzip data") { _ = try CIFAR100.load(path: path) }
    }

    @Test func notATarArchive() throws {
        let (folder, path) = try writeTemporary(Array("hello, this is not an archive".utf8) + [UInt8](repeating: 7, count: 600), name: "x.tar")
        defer { try? FileManager.default.removeItem(at: folder) }
        expectFormatError(path, "tar: bad checksum field in header") { _ = try CIFAR100.load(path: path) }
    }

    @Test func wrongRecordSize() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["train.bin", "test.bin"] {
            _ = FileManager.default.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data(count: 3074 * 2 + 5))
        }
        expectFormatError(folder.path + "/train.bin", "wrong record size") { _ = try CIFAR100.load(path: folder.path) }
    }

    @Test func corruptPickle() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A pickle calling os.system, which a strict reader must refuse, not run.
        let evil: [UInt8] = [0x80, 0x02] + Array("cos\nsystem\nq\u{00}U\u{02}lsq\u{01}".utf8) + [0x85] + Array("q\u{02}Rq\u{03}.".utf8)
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("train").path, contents: Data(evil))
        _ = FileManager.default.createFile(atPath: folder.appendingPathComponent("test").path, contents: Data([0x80, 0x02, 0x7D]))
        expectFormatError(folder.path + "/train", "unsupported global os.system") { _ = try CIFAR100.load(path: folder.path) }
        try Data([0x80, 0x02, 0x7D, 0x71]).write(to: folder.appendingPathComponent("train"))
        expectFormatError(folder.path + "/train", "unexpected end of data") { _ = try CIFAR100.load(path: folder.path) }
        try Data([0x80, 0x02, 0x7D, 0x49, 0x2E]).write(to: folder.appendingPathComponent("train"))
        expectFormatError(folder.path + "/train", "unsupported opcode 0x49") { _ = try CIFAR100.load(path: folder.path) }
    }

    /// Damaged pickles, hundreds of them (cut short, bytes changed in the opcode stream and in
    /// the data): each is read or refused with an error, never a crash.
    @Test func damagedPicklesNeverCrash() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xzf", fixture(Self.archives[0]), "-C", folder.path]
        try tar.run()
        tar.waitUntilExit()
        let split = folder.appendingPathComponent("cifar-100-python/test")
        let original = try [UInt8](Data(contentsOf: split))
        var generator = SeededGenerator(seed: 11)
        var refused = 0
        for trial in 0..<300 {
            var bytes = original
            switch trial % 3 {
            case 0: bytes = Array(bytes.prefix(generator.nextInt(below: bytes.count)))
            case 1: for _ in 0..<4 { bytes[generator.nextInt(below: 400)] = UInt8(truncatingIfNeeded: generator.next()) }
            default: for _ in 0..<4 { bytes[generator.nextInt(below: bytes.count)] = UInt8(truncatingIfNeeded: generator.next()) }
            }
            try Data(bytes).write(to: split)
            do {
                _ = try CIFAR100.load(path: folder.path, splits: .holdoutOnly)
            } catch is MLPError {
                refused += 1
            }
        }
        // Every cut and most header changes must be refused; changed pixels may load.
        #expect(refused >= 100, "refused \(refused) of 300")
    }

    @Test func missingPath() {
        expectFormatError("/nonexistent/cifar", "no such file") { _ = try CIFAR100.load(path: "/nonexistent/cifar") }
    }
}
