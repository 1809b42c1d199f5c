import Foundation

/// A reliability diagram (Guo et al. 2017, figure 1) in SVG: the samples binned by their top
/// probability, each bin's accuracy as a bar beside its mean confidence, the diagonal of perfect
/// calibration, and beneath it how many samples fall in each bin.
public enum ReliabilityDiagram {
    public static func svg(for report: EvaluationReport, title: String) -> String {
        let bins = report.calibration.binStatistics() ?? []
        let width = 1 / Double(max(report.calibration.bins, 1))
        let filled = bins.filter { $0.count > 0 }
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        var reliability = ChartPanel(
            title: "Reliability: ECE \(f(report.expectedCalibrationError)), Brier \(f(report.brierScore))",
            xLabel: "Confidence (top probability)", yLabel: "Accuracy",
            series: [
                ChartPanel.Series(label: "accuracy of the bin", points: filled.map { (x: ($0.lower + $0.upper) / 2, y: $0.accuracy) },
                                  color: "#1f77b4", barWidth: width),
                ChartPanel.Series(label: "mean confidence of the bin", points: filled.map { (x: ($0.lower + $0.upper) / 2, y: $0.confidence) },
                                  color: "#d62728", dots: true),
            ],
            xRange: 0...1, yRange: 0...1)
        reliability.guides = [((0, 0), (1, 1))]
        reliability.xTicks = stride(from: 0.0, through: 1.0, by: 0.2).map { $0 }
        reliability.yTicks = reliability.xTicks
        reliability.tickFormat = "%.1f"
        let most = filled.map(\.count).max() ?? 1
        var counts = ChartPanel(
            title: "Samples per bin (\(report.samples) in all)", xLabel: "Confidence (top probability)", yLabel: "Samples",
            series: [ChartPanel.Series(label: "", points: filled.map { (x: ($0.lower + $0.upper) / 2, y: $0.count) }, color: "#7f7f7f",
                                       barWidth: width)],
            xRange: 0...1, yRange: 0...(most * 1.05))
        counts.xTicks = reliability.xTicks
        counts.xTickLabels = Dictionary(uniqueKeysWithValues: counts.xTicks.map { ($0, String(format: "%.1f", $0)) })
        return Chart.svg(title: title, panels: [reliability, counts], panelWidth: 400, panelHeight: 340)
    }
}
