/// Exact ROC AUC, one class against the rest: the Mann–Whitney statistic with ties counted as
/// half, which equals scikit-learn's trapezoid over distinct thresholds.
///
/// A score that is not a number ranks below every other score (as the lowest), so a model with
/// NaN outputs gets an AUC that reflects them instead of an undefined order.
public struct ROCAUC {
    /// Per class, `orderKey(score) << 32 | sample` of every sample, ascending: the class's
    /// order, sorted once so that bootstrap resamples and curves cost one pass per class.
    /// Class c's keys are `classOrder[c * count ..< (c + 1) * count]`.
    let classOrder: [UInt64]
    /// `orderKey(score) << 32 | (sample * classes + class)` of every pair, ascending: the micro
    /// average's order, sorted once for its AUC and its curve.
    let microOrder: [UInt64]
    let labels: [Int]
    /// Columns of the probabilities: the number of classes.
    public let classes: Int

    /// - Parameters:
    ///   - scores: (samples, classes) row-major.
    ///   - threads: cores for the sorts (two at most help).
    public init(scores: [Float], labels: [Int], classes: Int, threads: Int = ComputeOptions().threads) {
        self.labels = labels
        self.classes = classes
        let n = labels.count
        // Integer keys in a radix sort, several times faster than floats compared through a closure;
        // the per-class sorts and the micro sort take about the same time, so they run side by side.
        var classOrder = [UInt64](repeating: 0, count: n * classes)
        var microOrder = [UInt64](repeating: 0, count: n * classes)
        scores.withUnsafeBufferPointer { s in
            classOrder.withUnsafeMutableBufferPointer { classBuffer in
                microOrder.withUnsafeMutableBufferPointer { microBuffer in
                    let perClass = classBuffer, micro = microBuffer
                    func sortClasses() {
                        for c in 0..<classes {
                            let slice = UnsafeMutableBufferPointer(rebasing: perClass[(c * n)..<((c + 1) * n)])
                            for i in 0..<n { slice[i] = UInt64(Self.orderKey(s[i * classes + c])) << 32 | UInt64(i) }
                            sortByKey(slice)
                        }
                    }
                    func sortMicro() {
                        let all = micro
                        for pair in 0..<(n * classes) { all[pair] = UInt64(Self.orderKey(s[pair])) << 32 | UInt64(pair) }
                        sortByKey(all)
                    }
                    let split = n * classes >= 1 << 16 && threads > 1
                        && WorkerPool.shared.run(pieces: 2) { $0 == 0 ? sortMicro() : sortClasses() }
                    if !split {
                        sortClasses()
                        sortMicro()
                    }
                }
            }
        }
        self.classOrder = classOrder
        self.microOrder = microOrder
    }

    /// An integer whose order is the score's: larger floats give larger keys, and NaN gives 0,
    /// below negative infinity.
    @inline(__always)
    static func orderKey(_ x: Float) -> UInt32 {
        guard !x.isNaN else { return 0 }
        let bits = (x == 0 ? 0 : x).bitPattern  // -0 and +0 tie
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// One entry of an ascending order: its score's key, whether it is a positive, and its weight.
    typealias Entry = (key: UInt32, positive: Bool, weight: Double)

    /// The entries of class `c`'s one-vs-rest problem, with bootstrap `weights` when given.
    @inline(__always)
    func classEntry(_ c: Int, weights: [Double]?) -> (Int) -> Entry {
        let base = c * labels.count
        return { i in
            let packed = classOrder[base + i], sample = Int(packed & 0xFFFF_FFFF)
            return (UInt32(packed >> 32), labels[sample] == c, weights?[sample] ?? 1)
        }
    }

    /// The entries of the micro-averaged problem: every pair of the one-hot labels.
    @inline(__always)
    func microEntry(_ i: Int) -> Entry {
        let packed = microOrder[i], pair = Int(packed & 0xFFFF_FFFF)
        return (UInt32(packed >> 32), labels[pair / classes] == pair % classes, 1)
    }

    /// Calls `group` with the positive and negative weight of each run of equal scores, in
    /// ascending order of score.
    @inline(__always)
    static func tieGroups(count: Int, entry: (Int) -> Entry, _ group: (_ positives: Double, _ negatives: Double) -> Void) {
        var i = 0
        while i < count {
            let key = entry(i).key
            var positives = 0.0, negatives = 0.0
            while i < count {
                let e = entry(i)
                guard e.key == key else { break }
                if e.positive { positives += e.weight } else { negatives += e.weight }
                i += 1
            }
            group(positives, negatives)
        }
    }

    /// The Mann–Whitney area: each positive beats the negatives below it by 1 and ties with the
    /// negatives of its own score for 1/2. nil without a positive or a negative.
    @inline(__always)
    static func area(count: Int, entry: (Int) -> Entry) -> Double? {
        var positives = 0.0, negatives = 0.0, area = 0.0
        tieGroups(count: count, entry: entry) { groupPositives, groupNegatives in
            area += groupPositives * (negatives + 0.5 * groupNegatives)
            positives += groupPositives
            negatives += groupNegatives
        }
        guard positives > 0, negatives > 0 else { return nil }
        return area / (positives * negatives)
    }

    /// False and true positive rates at each distinct threshold, from (0, 0) to (1, 1).
    static func curve(count: Int, entry: (Int) -> Entry) -> (fpr: [Double], tpr: [Double]) {
        var groups: [(positives: Double, negatives: Double)] = []
        tieGroups(count: count, entry: entry) { groups.append(($0, $1)) }
        let totalPositives = groups.reduce(0) { $0 + $1.positives }, totalNegatives = groups.reduce(0) { $0 + $1.negatives }
        var fpr = [0.0], tpr = [0.0], tp = 0.0, fp = 0.0
        // Lowering the threshold from the highest score admits one group at a time.
        for group in groups.reversed() {
            tp += group.positives
            fp += group.negatives
            fpr.append(totalNegatives > 0 ? fp / totalNegatives : 0)
            tpr.append(totalPositives > 0 ? tp / totalPositives : 0)
        }
        return (fpr, tpr)
    }

    /// AUC of class `c` against the rest, with per-sample `weights` (counts of a bootstrap
    /// resample; nil for all ones). nil when the class has no positive or no negative sample.
    public func auc(classIndex c: Int, weights: [Double]? = nil) -> Double? {
        Self.area(count: labels.count, entry: classEntry(c, weights: weights))
    }

    /// Every class's AUC (nil for a class absent from the labels or present in all).
    public func perClass(weights: [Double]? = nil) -> [Double?] { (0..<classes).map { auc(classIndex: $0, weights: weights) } }

    /// The unweighted mean over classes that have an AUC.
    public static func macro(_ values: [Double?]) -> Double {
        let present = values.compactMap { $0 }
        return present.isEmpty ? .nan : present.reduce(0, +) / Double(present.count)
    }

    /// The mean weighted by each class's number of positive samples.
    public static func weighted(_ values: [Double?], support: [Int]) -> Double {
        var sum = 0.0, total = 0.0
        for (value, count) in zip(values, support) {
            guard let value else { continue }
            sum += value * Double(count)
            total += Double(count)
        }
        return total > 0 ? sum / total : .nan
    }

    /// Micro average: one binary AUC over every (sample, class) pair of the one-hot labels.
    public func micro() -> Double {
        Self.area(count: microOrder.count, entry: microEntry) ?? .nan
    }

    /// The ROC curve of class `c`, or of all pairs (the micro curve) when `c` is nil.
    public func curve(classIndex c: Int?) -> (fpr: [Double], tpr: [Double]) {
        guard let c else { return Self.curve(count: microOrder.count, entry: microEntry) }
        return Self.curve(count: labels.count, entry: classEntry(c, weights: nil))
    }
}

/// Sorts `values` ascending by their upper 32 bits, equal keys keeping their order: an LSD radix
/// sort, a byte of the key a pass. With the sample index in the lower 32 bits written in
/// ascending order, it is the same order `sort()` gives, in a few passes instead of a merge sort's
/// comparisons.
func sortByKey(_ values: UnsafeMutableBufferPointer<UInt64>) {
    let n = values.count
    guard n > 1 else { return }
    let scratch = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: n)
    defer { scratch.deallocate() }
    var source = values, destination = scratch
    var counts = [Int](repeating: 0, count: 256)
    for shift in stride(from: 32, to: 64, by: 8) {
        for i in 0..<256 { counts[i] = 0 }
        for value in source { counts[Int((value >> UInt64(shift)) & 0xFF)] += 1 }
        // A byte every value shares leaves the order as it is.
        if counts.contains(n) { continue }
        var total = 0
        for i in 0..<256 {
            let count = counts[i]
            counts[i] = total
            total += count
        }
        for value in source {
            let bucket = Int((value >> UInt64(shift)) & 0xFF)
            destination[counts[bucket]] = value
            counts[bucket] += 1
        }
        swap(&source, &destination)
    }
    if source.baseAddress != values.baseAddress { _ = values.update(fromContentsOf: source) }
}
