import Foundation
import Testing
@testable import MLPKit

/// CIFAR-10 and Fashion-MNIST in their official layouts (Fixtures/datasets/make.py), read as
/// Keras's own readers read them: the same pixels, channels last, the same labels and class
/// names; found by their layout, not their names.
@Suite struct KerasDatasetsTests {
    @Test(arguments: [("cifar10", "datasets/cifar-10-python.tar.gz"), ("fashion_mnist", "datasets/fashion-mnist")])
    func readsWhatKerasReads(_ name: String, _ path: String) throws {
        let expected = try #require(try jsonFixture("datasets/expected.json")[name] as? [String: Any])
        let pair = try DatasetSources.load(fixture(path), request: DataRequest(), log: { _ in })
        #expect(pair.name == name)
        for (split, data) in [("train", pair.train), ("test", pair.test)] {
            let info = try #require(expected[split] as? [String: Any])
            #expect([data.count] + data.shape == (try ints(info["shape"])), "\(name) \(split)")
            #expect(data.labels.map(Int.init) == (try ints(info["labels"])), "\(name) \(split)")
            #expect(data.storage.map(Int.init) == (try ints(info["pixels"])), "\(name) \(split) pixels")
        }
        if let names = expected["class_names"] as? [String] { #expect(pair.train.classNames == names) }
        #expect(pair.train.classCount == 10)
    }
}
