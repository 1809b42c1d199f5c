import Foundation

/// A standalone SVG chart of ROC curves: micro and macro averages and the best and worst class.
public enum ROCPlot {
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

    /// Keeps at most about `limit` points, preserving the curve's shape at that resolution.
    static func thin(_ fpr: [Double], _ tpr: [Double], limit: Int = 600) -> [(Double, Double)] {
        let points = Array(zip(fpr, tpr))
        guard points.count > limit else { return points }
        let step = Double(points.count - 1) / Double(limit - 1)
        return (0..<limit).map { points[Int((Double($0) * step).rounded())] }
    }

    public static func svg(curves: [Curve], title: String) -> String {
        let width = 500.0, height = 510.0, left = 70.0, top = 50.0, size = 400.0
        func x(_ v: Double) -> String { String(format: "%.1f", left + v * size) }
        func y(_ v: Double) -> String { String(format: "%.1f", top + (1 - v) * size) }
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(x(0.5))\" y=\"30\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>",
        ]
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            let label = String(format: "%.1f", tick)
            parts.append("<line x1=\"\(x(tick))\" y1=\"\(y(0))\" x2=\"\(x(tick))\" y2=\"\(y(1))\" stroke=\"#e5e5e5\"/>")
            parts.append("<line x1=\"\(x(0))\" y1=\"\(y(tick))\" x2=\"\(x(1))\" y2=\"\(y(tick))\" stroke=\"#e5e5e5\"/>")
            parts.append("<text x=\"\(x(tick))\" y=\"\(String(format: "%.1f", top + size + 18))\" text-anchor=\"middle\" font-size=\"12\">\(label)</text>")
            parts.append("<text x=\"\(String(format: "%.1f", left - 8))\" y=\"\(y(tick))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"12\">\(label)</text>")
        }
        parts.append("<rect x=\"\(x(0))\" y=\"\(y(1))\" width=\"\(Int(size))\" height=\"\(Int(size))\" fill=\"none\" stroke=\"#333\"/>")
        parts.append("<line x1=\"\(x(0))\" y1=\"\(y(0))\" x2=\"\(x(1))\" y2=\"\(y(1))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>")
        parts.append("<text x=\"\(x(0.5))\" y=\"\(String(format: "%.1f", top + size + 40))\" text-anchor=\"middle\" font-size=\"13\">False positive rate</text>")
        parts.append("<text transform=\"translate(22 \(y(0.5))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">True positive rate</text>")
        for curve in curves {
            let points = thin(curve.fpr, curve.tpr).map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke=\"\(curve.color)\" stroke-width=\"2\"\(curve.dashed ? " stroke-dasharray=\"6 3\"" : "") points=\"\(points)\"/>")
        }
        for (i, curve) in curves.enumerated() {
            let ly = top + size - 20 - Double(curves.count - 1 - i) * 20
            parts.append("<line x1=\"\(x(0.42))\" y1=\"\(String(format: "%.1f", ly))\" x2=\"\(x(0.48))\" y2=\"\(String(format: "%.1f", ly))\" stroke=\"\(curve.color)\" stroke-width=\"3\"/>")
            parts.append("<text x=\"\(x(0.5))\" y=\"\(String(format: "%.1f", ly))\" dominant-baseline=\"middle\" font-size=\"12\">\(escape(curve.label))</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }
}
