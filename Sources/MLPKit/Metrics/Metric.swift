/// A metric of `mlp-eval`'s report computed from a model's probabilities and the labels: a line
/// of the text report and a member of `--json`. A new metric is one file with a type conforming
/// here; `Metrics` finds it, and every report has it.
public protocol RegisteredMetric {
    /// Its member in `mlp-eval --json`: "top5_accuracy".
    static var key: String { get }
    /// Its label in the text report, at most 15 characters: "top-5 accuracy".
    static var label: String { get }
    /// Where its line comes among the registered metrics' lines, which follow the accuracy.
    static var position: Int { get }
    /// The metric of `probabilities` (samples × classes, row-major) against `labels`.
    static func value(probabilities: [Float], labels: [Int], classes: Int) -> Double
}

/// The registered metrics of the report, found at build time from the types conforming to
/// `RegisteredMetric`.
public enum Metrics {
    /// Every metric, in position order.
    public static var all: [any RegisteredMetric.Type] { registered.sorted { ($0.position, $0.key) < ($1.position, $1.key) } }

    /// The metric of `key`.
    public static func named(_ key: String) -> (any RegisteredMetric.Type)? { all.first { $0.key == key } }
}

/// A registered metric's value in one report.
public struct MetricValue: Sendable, Equatable {
    public var key: String
    public var label: String
    public var value: Double
}
