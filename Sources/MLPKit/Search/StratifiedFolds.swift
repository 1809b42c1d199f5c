import Foundation

/// The folds of cross-validated trials: scikit-learn's
/// `StratifiedKFold(n_splits, shuffle=True, random_state)` on the training labels, as its
/// `_make_test_folds` assigns them. Classes are numbered in order of first appearance; each
/// class's samples go to the folds round robin over the sorted labels, in blocks, the block
/// shuffled by numpy's `RandomState(random_state)`, one class after another.
public struct StratifiedFolds: Sendable, Equatable, Codable {
    public var splits: Int
    public var randomState: UInt32
    /// Each fold's validation samples: positions in the training set, ascending.
    public var validationIndices: [[Int]]

    private enum CodingKeys: String, CodingKey {
        case splits = "n_splits", randomState = "random_state", validationIndices = "validation_indices"
    }

    /// The folds of `labels`; an error naming `--folds` when a class has fewer samples than
    /// folds (scikit-learn only warns, but such a fold would lack the class).
    public init(labels: some Collection<Int32>, splits: Int, randomState: UInt32) throws {
        guard splits >= 2 else { throw MLPError.setting("folds", problem: "\(splits): cross-validation needs 2 folds or more") }
        let labels = Array(labels)
        var order: [Int32: Int] = [:]
        for label in labels where order[label] == nil { order[label] = order.count }
        let encoded = labels.map { order[$0]! }
        var counts = [Int](repeating: 0, count: order.count)
        for k in encoded { counts[k] += 1 }
        if let smallest = counts.min(), smallest < splits {
            let label = order.first { counts[$0.value] == smallest }!.key
            throw MLPError.setting("folds", problem: "\(splits) is more than the \(smallest) training images of class \(label), "
                + "the smallest class; give --folds \(max(2, smallest)) or fewer")
        }
        // allocation[i][k]: class k's samples in fold i, from every n_splits-th sorted label.
        let sorted = encoded.sorted()
        var allocation = [[Int]](repeating: [Int](repeating: 0, count: order.count), count: splits)
        for (position, k) in sorted.enumerated() { allocation[position % splits][k] += 1 }
        var random = PythonRandom(numpySeed: randomState)
        var folds = [Int](repeating: 0, count: labels.count)
        var members = [[Int]](repeating: [], count: order.count)
        for (position, k) in encoded.enumerated() { members[k].append(position) }
        for k in 0..<order.count {
            var blocks = (0..<splits).flatMap { fold in [Int](repeating: fold, count: allocation[fold][k]) }
            random.numpyShuffle(&blocks)
            for (position, fold) in zip(members[k], blocks) { folds[position] = fold }
        }
        self.splits = splits
        self.randomState = randomState
        validationIndices = (0..<splits).map { fold in folds.indices.filter { folds[$0] == fold } }
    }

    /// Fold `fold`'s training positions (every position outside its validation part), ascending.
    public func trainingIndices(_ fold: Int, count: Int) -> [Int] {
        let held = Set(validationIndices[fold])
        return (0..<count).filter { !held.contains($0) }
    }
}
