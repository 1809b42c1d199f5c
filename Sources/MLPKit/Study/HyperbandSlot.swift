/// Where a trial sits in KerasTuner's Hyperband schedule (`Hyperband`), as its record keeps it.
public struct HyperbandSlot: Sendable, Equatable, Codable {
    /// The schedule's iteration, bracket and round, each from 0.
    public var iteration: Int
    public var bracket: Int
    public var round: Int
}
