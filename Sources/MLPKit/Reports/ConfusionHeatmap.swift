import Foundation

/// The confusion matrix as an SVG heat map: true classes down, predicted classes across, each
/// cell shaded by its share of its true class (the row's recall on the diagonal), with the
/// counts written in when the classes are few enough to read them.
public enum ConfusionHeatmap {
    public static func svg(confusion: [[Int]], classNames: [String], title: String) -> String {
        let n = classNames.count
        let cell = max(6.0, min(36.0, 720.0 / Double(max(n, 1))))
        let font = min(12.0, cell * 0.85)
        let labelRoom = min(160.0, Double(classNames.map(\.count).max() ?? 1) * font * 0.62 + 12)
        let left = labelRoom + 40, top = 60 + labelRoom, side = cell * Double(n)
        let width = left + side + 110, height = top + side + 50
        func v(_ x: Double) -> String { String(format: "%.1f", x) }
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(v(width / 2))\" y=\"28\" text-anchor=\"middle\" font-size=\"17\">\(Chart.escape(title))</text>",
            "<text x=\"\(v(left + side / 2))\" y=\"\(v(52))\" text-anchor=\"middle\" font-size=\"13\">Predicted class</text>",
            "<text transform=\"translate(\(v(16)) \(v(top + side / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">True class</text>",
        ]
        for (row, counts) in confusion.enumerated() {
            let total = Double(counts.reduce(0, +))
            for (column, count) in counts.enumerated() where count > 0 {
                let share = total > 0 ? Double(count) / total : 0
                let x = left + Double(column) * cell, y = top + Double(row) * cell
                parts.append("<rect x=\"\(v(x))\" y=\"\(v(y))\" width=\"\(v(cell))\" height=\"\(v(cell))\" fill=\"\(color(share))\"><title>"
                             + Chart.escape("\(classNames[row]) as \(classNames[column]): \(count)") + "</title></rect>")
                if cell >= 22 {
                    parts.append("<text x=\"\(v(x + cell / 2))\" y=\"\(v(y + cell / 2))\" text-anchor=\"middle\" dominant-baseline=\"middle\" "
                                 + "font-size=\"\(v(font * 0.85))\" fill=\"\(share > 0.5 ? "white" : "black")\">\(count)</text>")
                }
            }
        }
        parts.append("<rect x=\"\(v(left))\" y=\"\(v(top))\" width=\"\(v(side))\" height=\"\(v(side))\" fill=\"none\" stroke=\"#333\"/>")
        for (index, name) in classNames.enumerated() {
            let middle = Double(index) * cell + cell / 2
            parts.append("<text x=\"\(v(left - 4))\" y=\"\(v(top + middle))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"\(v(font))\">\(Chart.escape(name))</text>")
            parts.append("<text transform=\"translate(\(v(left + middle)) \(v(top - 4))) rotate(-90)\" dominant-baseline=\"middle\" font-size=\"\(v(font))\">\(Chart.escape(name))</text>")
        }
        // The scale: the share of the true class a cell's shade stands for.
        let barLeft = left + side + 30, barHeight = min(side, 300.0)
        for step in 0..<50 {
            let share = 1 - Double(step) / 49
            parts.append("<rect x=\"\(v(barLeft))\" y=\"\(v(top + Double(step) * barHeight / 50))\" width=\"16\" height=\"\(v(barHeight / 50 + 0.5))\" fill=\"\(color(share))\"/>")
        }
        parts.append("<rect x=\"\(v(barLeft))\" y=\"\(v(top))\" width=\"16\" height=\"\(v(barHeight))\" fill=\"none\" stroke=\"#333\"/>")
        for tick in [0.0, 0.5, 1.0] {
            parts.append("<text x=\"\(v(barLeft + 22))\" y=\"\(v(top + (1 - tick) * barHeight))\" dominant-baseline=\"middle\" font-size=\"11\">\(String(format: "%.1f", tick))</text>")
        }
        parts.append("<text transform=\"translate(\(v(barLeft + 60)) \(v(top + barHeight / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">share of the true class</text>")
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    /// White to dark blue (matplotlib's "Blues" ends) by `share` in [0, 1].
    static func color(_ share: Double) -> String {
        let t = min(max(share, 0), 1).squareRoot()
        let from = (247.0, 251.0, 255.0), to = (8.0, 48.0, 107.0)
        func mix(_ a: Double, _ b: Double) -> Int { Int((a + (b - a) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
    }
}
