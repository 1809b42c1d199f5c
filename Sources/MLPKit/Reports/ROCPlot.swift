import Foundation

/// A standalone SVG chart of ROC curves: micro and macro averages and the best and worst class.
public enum ROCPlot {
    /// One ROC curve: false and true positive rates from (0, 0) to (1, 1), its legend label and colour.
    public struct Curve {
        public var label: String
        public var fpr: [Double]
        public var tpr: [Double]
        public var color: String
        public var dashed = false
    }

    /// The curves `mlp-eval --plot` draws for a report.
    public static func curves(for report: EvaluationReport) -> [Curve] {
        let auc = report.auc
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        let micro = auc.curve(classIndex: nil)
        var curves = [Curve(label: "micro average (AUC \(f(report.rocAUCMicro)))", fpr: micro.fpr, tpr: micro.tpr, color: "#1f77b4")]
        // Macro curve: each class's TPR interpolated on a common FPR grid, then averaged.
        let grid = (0...200).map { Double($0) / 200 }
        let present = report.perClass.filter { $0.rocAUC != nil }
        if !present.isEmpty {
            var mean = [Double](repeating: 0, count: grid.count)
            for score in present {
                let c = auc.curve(classIndex: score.index)
                for (i, x) in grid.enumerated() { mean[i] += interpolate(x, c.fpr, c.tpr) / Double(present.count) }
            }
            curves.append(Curve(label: "macro average (AUC \(f(report.rocAUCMacro)))", fpr: [0] + grid, tpr: [0] + mean, color: "#ff7f0e"))
        }
        let ranked = report.classesByAUC
        if let best = ranked.first, let worst = ranked.last {
            let b = auc.curve(classIndex: best.index), w = auc.curve(classIndex: worst.index)
            curves.append(Curve(label: "best: \(best.name) (AUC \(f(best.rocAUC!)))", fpr: b.fpr, tpr: b.tpr, color: "#2ca02c"))
            curves.append(Curve(label: "worst: \(worst.name) (AUC \(f(worst.rocAUC!)))", fpr: w.fpr, tpr: w.tpr, color: "#d62728"))
        }
        return curves
    }

    /// Linear interpolation of the curve (xs ascending) at x, taking the highest point at a
    /// vertical step, as numpy's interp on a ROC curve.
    static func interpolate(_ x: Double, _ xs: [Double], _ ys: [Double]) -> Double {
        guard let last = xs.lastIndex(where: { $0 <= x }) else { return ys.first ?? 0 }
        guard last + 1 < xs.count, xs[last + 1] > xs[last] else { return ys[last] }
        let t = (x - xs[last]) / (xs[last + 1] - xs[last])
        return ys[last] + t * (ys[last + 1] - ys[last])
    }

    /// The chart: the curves on the unit square, with the chance diagonal.
    public static func svg(curves: [Curve], title: String) -> String {
        let series = curves.map {
            ChartPanel.Series(label: $0.label, points: zip($0.fpr, $0.tpr).map { (x: $0.0, y: $0.1) }, color: $0.color, dashed: $0.dashed)
        }
        var panel = ChartPanel(title: title, xLabel: "False positive rate", yLabel: "True positive rate", series: series,
                               xRange: 0...1, yRange: 0...1)
        panel.xTicks = stride(from: 0.0, through: 1.0, by: 0.2).map { $0 }
        panel.yTicks = panel.xTicks
        panel.tickFormat = "%.1f"
        panel.guides = [((0, 0), (1, 1))]
        return Chart.svg(panels: [panel], panelWidth: 400, panelHeight: 400)
    }
}
