import Foundation

/// What this machine's memory moves a second, as STREAM's copy kernel measures it: a buffer far
/// larger than the caches copied to another, split over the cores, the bytes read and written
/// both counted.
public enum MemoryRate {
    /// The best copy rate of `repeats` copies of `megabytes` MB, in GB/s.
    public static func copy(megabytes: Int = 256, threads: Int, repeats: Int = 5) -> Double {
        let count = megabytes << 18
        let source = FloatBuffer(count: count), destination = FloatBuffer(count: count)
        source.fill(1)
        destination.fill(0)
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = StepProfile.now()
            parallelRanges(count, pieces: threads, alignment: 16) { range in
                (destination.pointer + range.lowerBound).update(from: source.pointer + range.lowerBound, count: range.count)
            }
            best = min(best, Double(StepProfile.now() - start) / 1e9)
        }
        return Double(2 * count * 4) / best / 1e9
    }
}
