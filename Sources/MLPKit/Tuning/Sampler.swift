/// Draws trials' hyperparameters from a space, at random and reproducibly: the n-th new trial
/// of a search with a given seed always gets the same values, whichever worker creates it.
public struct RandomSampler: Sendable {
    public let space: SearchSpace
    public let seed: UInt64

    public init(space: SearchSpace, seed: UInt64) {
        self.space = space
        self.seed = seed
    }

    /// The values of the `index`-th drawn trial, different from every one in `taken` (drawing
    /// again, as KerasTuner does, when a discrete space repeats itself); nil when 100 draws in
    /// a row found nothing new: the space is exhausted.
    public func sample(index: Int, avoiding taken: Set<Hyperparameters>) -> Hyperparameters? {
        var generator = SeededGenerator(seed: seed &+ 0x7452_4941_4C53 &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<100 {
            let values = space.sample(&generator)
            if !taken.contains(values) { return values }
        }
        return nil
    }
}
