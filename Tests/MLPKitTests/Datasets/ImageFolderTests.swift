import Foundation
import Testing
@testable import MLPKit

/// An image folder read as Keras's `image_dataset_from_directory(shuffle=False)` reads it
/// (Fixtures/images/make.py): the same class names, file order, labels and resized pixels; and
/// the layouts it refuses, each in one line naming the folder or file.
@Suite struct ImageFolderTests {
    let expected = (try? jsonFixture("images/expected.json")["folder"] as? [String: Any]) ?? [:]
    let root = fixture("images/folder")

    @Test func indexesAsKeras() throws {
        for split in ["train", "test"] {
            let want = try #require(expected[split] as? [String: Any], "no expectation for \(split)")
            let index = try ImageFolder.index(root + "/" + split)
            #expect(index.classNames == want["class_names"] as? [String])
            #expect(index.files.map { String($0.dropFirst(root.count + split.count + 2)) } == want["files"] as? [String])
            #expect(index.labels.map(Int.init) == (try ints(want["labels"])))
            // shuffle=True, seed=0: numpy's RandomState(0) shuffle of that list.
            let shuffled = try #require(want["shuffled_seed0"] as? [String: Any])
            let order = index.shuffled(0)
            #expect(order.files.map { String($0.dropFirst(root.count + split.count + 2)) } == shuffled["files"] as? [String])
            #expect(order.labels.map(Int.init) == (try ints(shuffled["labels"])))
        }
    }

    /// With a shuffle seed the training images come in Keras's shuffled order; the holdout
    /// images stay sorted.
    @Test func shuffleSeedOrdersTheTrainingImagesAsKeras() throws {
        let pair = try DatasetSources.load(root, request: DataRequest(imageSize: [6, 5], shuffleSeed: 0), log: { _ in })
        let train = try #require(expected["train"] as? [String: Any]), test = try #require(expected["test"] as? [String: Any])
        let shuffled = try #require(train["shuffled_seed0"] as? [String: Any])
        #expect(pair.train.labels.map(Int.init) == (try ints(shuffled["labels"])))
        let first = try floats(shuffled["first_image"]).map { $0 / 255 }
        #expect(maxDifference(Array(pair.train.features.prefix(first.count)), first) < 1e-5)
        #expect(pair.test.labels.map(Int.init) == (try ints(test["labels"])))
    }

    @Test func resizedSamplesAreKerasPixelsOver255() throws {
        let pair = try DatasetSources.load(root, request: DataRequest(imageSize: [6, 5]), log: { _ in })
        #expect(pair.train.shape == [6, 5, 3] && pair.train.classNames == ["Banana", "apple", "cherry"])
        #expect(pair.train.preprocessing == .rescale255 && !pair.train.isImages)
        for (split, data) in [("train", pair.train), ("test", pair.test)] {
            let want = try #require(expected[split] as? [String: Any])
            let first = try floats(want["first_image"]).map { $0 / 255 }
            #expect(maxDifference(Array(data.features.prefix(first.count)), first) < 1e-5, "\(split)")
            let sum = data.features.reduce(0.0) { $0 + Double($1) } * 255
            #expect(abs(sum - (try number(want["resized_6x5_sum"]))) < 0.05, "\(split)")
            #expect(data.labels.map(Int.init) == (try ints(want["labels"])))
        }
    }

    @Test func imagesOfManySizesNeedAnImageSize() throws {
        #expect(throws: MLPError.self) { try DatasetSources.load(root, request: DataRequest(), log: { _ in }) }
        do {
            _ = try DatasetSources.load(root, request: DataRequest(), log: { _ in })
        } catch {
            #expect("\(error)".contains("10×12 pixels where") && "\(error)".contains("--image-size"), "\(error)")
        }
    }

    /// A folder of classes without train/ and test/: the last fraction of each class held out.
    @Test func holdoutSplitTakesTheLastOfEachClass() throws {
        let folder = root + "/train"
        #expect(throws: MLPError.self) { try DatasetSources.load(folder, request: DataRequest(imageSize: [4, 4]), log: { _ in }) }
        let pair = try DatasetSources.load(folder, request: DataRequest(imageSize: [4, 4], holdoutSplit: 0.25), log: { _ in })
        #expect(pair.train.labels.map(Int.init) == [0, 0, 0, 1, 1, 1, 2, 2, 2])
        #expect(pair.test.labels.map(Int.init) == [0, 1, 2])
        let index = try ImageFolder.index(folder)
        let all = try ImageFolder.samples(index, request: DataRequest(imageSize: [4, 4]))
        // The held-out image of class 0 is the class's last file, sample 3.
        #expect(Array(pair.test.features.prefix(48)) == Array(all.features[(3 * 48)..<(4 * 48)]))
    }

    @Test func refusesBadLayouts() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fm = FileManager.default
        func refusal(_ path: String, _ request: DataRequest = DataRequest(imageSize: [4, 4], holdoutSplit: 0.5)) -> String {
            do {
                _ = try ImageFolder.load(path: path, request: request)
                return "loaded"
            } catch { return "\(error)" }
        }
        let empty = folder.appendingPathComponent("empty").path
        try fm.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(refusal(empty).contains("holds no class subfolders"))

        let classes = folder.appendingPathComponent("classes").path
        try fm.createDirectory(atPath: classes + "/cat", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: classes + "/dog", withIntermediateDirectories: true)
        try fm.copyItem(atPath: fixture("images/decode/rgb.png"), toPath: classes + "/cat/a.png")
        #expect(refusal(classes).hasPrefix(classes + "/dog: class 'dog' holds no images"), "\(refusal(classes))")

        try fm.copyItem(atPath: fixture("images/bad/text.png"), toPath: classes + "/dog/b.png")
        #expect(refusal(classes).hasPrefix(classes + "/dog/b.png: not a PNG"), "\(refusal(classes))")
        try fm.removeItem(atPath: classes + "/dog/b.png")

        try fm.copyItem(atPath: fixture("images/decode/photo.jpg"), toPath: classes + "/dog/b.jpg")
        try fm.createSymbolicLink(atPath: classes + "/dog/up", withDestinationPath: classes)
        #expect(refusal(classes).hasPrefix(classes + "/dog/up: a folder symlink loop"), "\(refusal(classes))")
        try fm.removeItem(atPath: classes + "/dog/up")
        #expect(refusal(classes) == "loaded")
    }
}
