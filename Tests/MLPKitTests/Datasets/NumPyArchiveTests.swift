import Foundation
import Testing
@testable import MLPKit

/// `.npz` archives as `np.savez` writes them (Fixtures/numpy/make.py), read as
/// `np.load(allow_pickle=False)` reads them: the shapes, labels and values numpy reads.
@Suite struct NumPyArchiveTests {
    static func expected() throws -> [String: Any] { try jsonFixture("numpy/expected.json") }

    @Test(arguments: ["images", "features"])
    func readsWhatNumpyReads(_ name: String) throws {
        let expected = try #require(try Self.expected()[name] as? [String: Any])
        let pair = try DatasetSources.load(fixture("numpy/\(name).npz"), request: DataRequest(), log: { _ in })
        for (split, data) in [("train", pair.train), ("test", pair.test)] {
            let info = try #require(expected[split] as? [String: Any])
            let shape = try ints(info["shape"])
            #expect([data.count] + data.shape == shape, "\(name) \(split)")
            #expect(data.labels.map(Int.init) == (try ints(info["labels"])), "\(name) \(split)")
            #expect(data.isImages == (name == "images"))
            let width = data.featureCount
            var values = [Float](repeating: 0, count: data.count * width)
            var labels = [Int32](repeating: 0, count: data.count)
            data.fill(0..<data.count, into: &values, labels: &labels)
            // Images become byte / 255 as the notebook scales them; features stay as they are.
            let scale: Float = name == "images" ? 255 : 1
            #expect(maxDifference(Array(values.prefix(width)).map { $0 * scale }, try floats(info["first"])) < 1e-4, "\(name) \(split)")
            let sum = values.reduce(0.0) { $0 + Double($1) } * Double(scale)
            #expect(abs(sum - (try number(info["sum"]))) < 1e-3 * max(1, abs(sum)), "\(name) \(split): \(sum)")
        }
        #expect(pair.train.classNames == pair.test.classNames && pair.train.classNames.first == "0")
    }

    @Test(arguments: [("object", "object array, which is refused as np.load(allow_pickle=False) refuses it"),
                      ("negative", "y_train holds the label -1"),
                      ("mismatched", "x_train holds 3 samples of shape [4], y_train 2 labels")])
    func refusesWhatIsNotADataset(_ name: String, _ problem: String) throws {
        #expect {
            _ = try DatasetSources.load(fixture("numpy/\(name).npz"), request: DataRequest(), log: { _ in })
        } throws: { "\($0)".contains(problem) && "\($0)".contains("\(name).npz") }
    }
}
