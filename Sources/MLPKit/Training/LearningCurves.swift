import Foundation

/// The learning curves of a run as an SVG chart: a panel per metric (loss, accuracy, and any
/// other the run logged, such as val_auc), training against validation by epoch. It marks the epoch of the best monitored value (where
/// overfitting begins, when validation is monitored) and the epoch early stopping stopped at.
public enum LearningCurves {
    /// The learning curves of `history` as an SVG document: a panel per metric, training and validation lines,
    /// with markers at `bestEpoch` (restored by early stopping) and `stoppedEpoch`, both counted from 0;
    /// `monitor` names the watched metric.
    public static func svg(history: History, monitor: Monitor, bestEpoch: Int?, stoppedEpoch: Int?) -> String {
        let epochs = history.epochs.map { Double($0 + 1) }
        func series(_ name: String, _ label: String, _ color: String, dashed: Bool = false) -> ChartPanel.Series? {
            let values = history.values(name)
            guard values.contains(where: { $0 != nil }) else { return nil }
            let points = zip(epochs, values).compactMap { x, y in y.map { (x: x, y: $0) } }
            return ChartPanel.Series(label: label, points: points, color: color, dashed: dashed)
        }
        // The best epoch by the monitored metric: early stopping's, or found in the history.
        let best = bestEpoch.map { $0 + 1 } ?? bestByMonitor(history, monitor).map { $0 + 1 }
        var markers: [ChartPanel.Marker] = []
        if let best, let index = history.epochs.firstIndex(of: best - 1), let value = history.values(monitor.name)[index] {
            markers.append(ChartPanel.Marker(x: Double(best), label: "best \(monitor.name) \(format(value)) (epoch \(best))", color: "#2ca02c"))
        }
        if let stoppedEpoch { markers.append(ChartPanel.Marker(x: Double(stoppedEpoch + 1), label: "early stop (epoch \(stoppedEpoch + 1))", color: "#d62728")) }
        let first = Double(epochs.first ?? 1), last = max(Double(epochs.last ?? 1), first + 1)
        let xRange = (first - 0.25)...(last + 0.25)
        func panel(_ title: String, _ metric: String) -> ChartPanel {
            let lines = [series(metric, "training", "#1f77b4"), series("val_" + metric, "validation", "#ff7f0e")].compactMap { $0 }
            var panel = ChartPanel(title: title, xLabel: "Epoch", yLabel: title, series: lines, xRange: xRange)
            panel.markers = markers
            panel.xTicks = Chart.ticks(xRange).filter { $0 == $0.rounded() }
            return panel
        }
        // Metrics beyond loss and accuracy (val_auc), each in a panel of its own.
        let others = history.names.map { $0.hasPrefix("val_") ? String($0.dropFirst(4)) : $0 }
            .filter { !["loss", "accuracy", "learning_rate"].contains($0) }
        var seen: Set<String> = []
        let extra = others.filter { seen.insert($0).inserted }.map { panel($0 == "auc" ? "ROC AUC" : $0, $0) }
        let title = "Learning curves, \(epochs.count) epoch\(epochs.count == 1 ? "" : "s")"
            + (history.interruption.map { " (interrupted in \($0))" } ?? "")
        return Chart.svg(title: title, panels: [panel("Loss", "loss"), panel("Accuracy", "accuracy")] + extra)
    }

    /// The epoch (counted from 0) with the best value of the monitored metric.
    static func bestByMonitor(_ history: History, _ monitor: Monitor) -> Int? {
        var best: Double?, epoch: Int?
        for (e, value) in zip(history.epochs, history.values(monitor.name)) {
            guard let value else { continue }
            if best == nil || monitor.isBetter(value, than: best!) {
                best = value
                epoch = e
            }
        }
        return epoch
    }

    private static func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// Draws the learning curves when training ends (`--plot FILE.svg`), marking the epoch early
/// stopping restored and the one it stopped at.
public final class LearningCurvesPlot: RegisteredCallback {
    public static let flag = "plot"
    public static let options = [
        ExtensionOption.output(flag, help: "Draw the learning curves (loss and accuracy, training against validation) as an SVG chart.",
                               formats: OutputName.chart),
    ]
    public static let phase = CallbackPhase.records
    public static let recordsOptions = false

    public let path: String
    public let monitor: Monitor
    private var history = History()

    public init(path: String, monitor: Monitor) {
        self.path = path
        self.monitor = monitor
    }

    public static func make(_ values: ExtensionValues, setup: CallbackSetup) throws -> Callback {
        LearningCurvesPlot(path: values[flag]?.string ?? "", monitor: setup.monitor)
    }

    public func trainBegin(_ context: TrainingContext) throws { history = History() }

    public func epochEnd(_ epoch: Int, logs: inout Logs, _ context: TrainingContext) throws {
        try history.epochEnd(epoch, logs: &logs, context)
    }

    public func trainEnd(logs: Logs, _ context: TrainingContext) throws {
        history.interruption = context.interruption
        let svg = LearningCurves.svg(history: history, monitor: monitor, bestEpoch: context.earlyStopping?.bestEpoch,
                                     stoppedEpoch: context.earlyStopping?.stoppedEpoch)
        try AtomicFile.write(Data(svg.utf8), to: path)
    }
}
