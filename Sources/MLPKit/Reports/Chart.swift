import Foundation

/// A line chart in SVG, small and dependency-free: panels of axes with ticks and grid lines,
/// lines, vertical markers and a legend. The ROC plot, the learning curves and the tuning
/// charts are all drawn with it.
public struct ChartPanel {
    /// A line (or dots) of `points` in data coordinates, with its legend label and SVG colour.
    public struct Series {
        public var label: String
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var dashed = false
        /// Draw each point as a dot instead of joining them.
        public var dots = false
        /// Draw each point as a bar this wide (in x's units), centred on x, from the axis's
        /// floor (or 0, when 0 is in range) up to y.
        public var barWidth: Double?

        public init(label: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false, dots: Bool = false,
                    barWidth: Double? = nil) {
            self.label = label
            self.points = points
            self.color = color
            self.dashed = dashed
            self.dots = dots
            self.barWidth = barWidth
        }
    }

    /// A vertical line at `x` with a label at its top.
    public struct Marker {
        public var x: Double
        public var label: String
        public var color: String

        public init(x: Double, label: String, color: String) {
            self.x = x
            self.label = label
            self.color = color
        }
    }


    /// Shown above the panel.
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// The data ranges the plotting area spans; points outside are clipped.
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    /// Where ticks, tick labels and grid lines go on each axis.
    public var xTicks: [Double]
    public var yTicks: [Double]
    public var series: [Series] = []
    public var markers: [Marker] = []
    /// Grey dashed guide lines from one point to another (the ROC plot's chance diagonal).
    public var guides: [((Double, Double), (Double, Double))] = []
    /// Tick labels: "%g" by default.
    public var tickFormat = "%g"
    /// Labels of x ticks in place of their numbers (categories, powers of ten).
    public var xTickLabels: [Double: String] = [:]

    /// A panel whose ranges and ticks fit `series` (with a little room above and below).
    public init(title: String, xLabel: String, yLabel: String, series: [Series],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        let xs = series.flatMap { $0.points.map(\.x) }.filter(\.isFinite)
        let ys = series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        self.xRange = xRange ?? Chart.paddedRange(xs.min() ?? 0, xs.max() ?? 1, padding: 0)
        self.yRange = yRange ?? Chart.paddedRange(ys.min() ?? 0, ys.max() ?? 1, padding: 0.05)
        xTicks = Chart.ticks(self.xRange)
        yTicks = Chart.ticks(self.yRange)
    }

    /// The panel's SVG elements in the box at (`left`, `top`) of `width` by `height` (the
    /// plotting area; labels go outside it).
    func elements(left: Double, top: Double, width: Double, height: Double) -> [String] {
        func sx(_ v: Double) -> Double { left + (v - xRange.lowerBound) / max(xRange.upperBound - xRange.lowerBound, 1e-300) * width }
        func sy(_ v: Double) -> Double { top + (1 - (v - yRange.lowerBound) / max(yRange.upperBound - yRange.lowerBound, 1e-300)) * height }
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var parts = ["<text x=\"\(n(left + width / 2))\" y=\"\(n(top - 12))\" text-anchor=\"middle\" font-size=\"15\">\(Chart.escape(title))</text>"]
        for tick in xTicks where xRange.contains(tick) {
            parts.append("<line x1=\"\(n(sx(tick)))\" y1=\"\(n(top))\" x2=\"\(n(sx(tick)))\" y2=\"\(n(top + height))\" stroke=\"#e5e5e5\"/>")
            let label = xTickLabels[tick] ?? String(format: tickFormat, tick)
            parts.append("<text x=\"\(n(sx(tick)))\" y=\"\(n(top + height + 18))\" text-anchor=\"middle\" font-size=\"12\">\(Chart.escape(label))</text>")
        }
        for tick in yTicks where yRange.contains(tick) {
            parts.append("<line x1=\"\(n(left))\" y1=\"\(n(sy(tick)))\" x2=\"\(n(left + width))\" y2=\"\(n(sy(tick)))\" stroke=\"#e5e5e5\"/>")
            parts.append("<text x=\"\(n(left - 8))\" y=\"\(n(sy(tick)))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"12\">\(String(format: tickFormat, tick))</text>")
        }
        parts.append("<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"none\" stroke=\"#333\"/>")
        parts.append("<text x=\"\(n(left + width / 2))\" y=\"\(n(top + height + 40))\" text-anchor=\"middle\" font-size=\"13\">\(Chart.escape(xLabel))</text>")
        parts.append("<text transform=\"translate(\(n(left - 48)) \(n(top + height / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(Chart.escape(yLabel))</text>")
        for ((x1, y1), (x2, y2)) in guides {
            parts.append("<line x1=\"\(n(sx(x1)))\" y1=\"\(n(sy(y1)))\" x2=\"\(n(sx(x2)))\" y2=\"\(n(sy(y2)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>")
        }
        for marker in markers where xRange.contains(marker.x) {
            parts.append("<line x1=\"\(n(sx(marker.x)))\" y1=\"\(n(top))\" x2=\"\(n(sx(marker.x)))\" y2=\"\(n(top + height))\" stroke=\"\(marker.color)\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>")
        }
        for line in series {
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }
            if let barWidth = line.barWidth {
                let floor = yRange.contains(0) ? 0 : yRange.lowerBound
                for p in points {
                    let x0 = sx(p.x - barWidth / 2), x1 = sx(p.x + barWidth / 2)
                    let top = sy(min(max(p.y, yRange.lowerBound), yRange.upperBound)), bottom = sy(floor)
                    parts.append("<rect x=\"\(n(x0))\" y=\"\(n(min(top, bottom)))\" width=\"\(n(max(x1 - x0 - 1, 0.5)))\" "
                                 + "height=\"\(n(abs(bottom - top)))\" fill=\"\(line.color)\" fill-opacity=\"0.75\"/>")
                }
            } else if line.dots {
                for p in points {
                    parts.append("<circle cx=\"\(n(sx(p.x)))\" cy=\"\(n(sy(p.y)))\" r=\"3.5\" fill=\"\(line.color)\" fill-opacity=\"0.8\"/>")
                }
            } else {
                let text = Chart.thin(points).map { "\(n(sx($0.x))),\(n(sy($0.y)))" }.joined(separator: " ")
                parts.append("<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 3\"" : "") points=\"\(text)\"/>")
            }
        }
        // The legend, below the axis label and so off the data: the labelled lines, then the
        // markers, in rows that fit the panel's width.
        for (entry, position) in zip(legendEntries, legendLayout(width: width)) {
            let y = top + height + 62 + Double(position.row) * Chart.legendRowHeight, x = left + position.x
            if entry.bars {
                parts.append("<rect x=\"\(n(x + 4))\" y=\"\(n(y - 6))\" width=\"14\" height=\"12\" fill=\"\(entry.color)\" fill-opacity=\"0.75\"/>")
            } else if entry.dots {
                parts.append("<circle cx=\"\(n(x + 11))\" cy=\"\(n(y))\" r=\"4\" fill=\"\(entry.color)\"/>")
            } else {
                parts.append("<line x1=\"\(n(x))\" y1=\"\(n(y))\" x2=\"\(n(x + 22))\" y2=\"\(n(y))\" stroke=\"\(entry.color)\" stroke-width=\"\(entry.dashed ? 2 : 3)\"\(entry.dashed ? " stroke-dasharray=\"5 3\"" : "")/>")
            }
            parts.append("<text x=\"\(n(x + 28))\" y=\"\(n(y))\" dominant-baseline=\"middle\" font-size=\"12\">\(Chart.escape(entry.label))</text>")
        }
        return parts
    }

    var legendEntries: [(label: String, color: String, dashed: Bool, dots: Bool, bars: Bool)] {
        series.filter { !$0.label.isEmpty }.map { ($0.label, $0.color, $0.dashed, $0.dots, $0.barWidth != nil) }
            + markers.filter { xRange.contains($0.x) }.map { ($0.label, $0.color, true, false, false) }
    }

    /// Where each legend entry goes: its row and its offset from the panel's left edge.
    func legendLayout(width: Double) -> [(row: Int, x: Double)] {
        var row = 0, x = 0.0, layout: [(row: Int, x: Double)] = []
        for entry in legendEntries {
            let entryWidth = 40 + Double(entry.label.count) * 6.6
            if x > 0, x + entryWidth > width {
                row += 1
                x = 0
            }
            layout.append((row, x))
            x += entryWidth
        }
        return layout
    }

    /// Rows the legend takes under the panel.
    func legendRows(width: Double) -> Int { (legendLayout(width: width).map(\.row).max() ?? -1) + 1 }
}

/// Lays out `ChartPanel`s into one SVG document, and the helpers that fit their ranges and ticks.
public enum Chart {
    /// A standalone SVG document of `panels` in rows of `columns` (all in one row by default),
    /// each `panelWidth` by `panelHeight` of plotting area, under an overall `title`.
    public static func svg(title: String? = nil, panels: [ChartPanel], columns: Int? = nil, panelWidth: Double = 400,
                           panelHeight: Double = 300) -> String {
        let legendRows = panels.map { $0.legendRows(width: panelWidth) }.max() ?? 0
        let marginLeft = 80.0, marginRight = 30.0, marginTop = 50.0, titleHeight = title == nil ? 0.0 : 30.0
        let marginBottom = 60.0 + (legendRows > 0 ? 10 + Double(legendRows) * legendRowHeight : 0)
        let cell = marginLeft + panelWidth + marginRight, row = marginTop + panelHeight + marginBottom
        let perRow = max(1, min(columns ?? panels.count, panels.count))
        let rows = (panels.count + perRow - 1) / perRow
        let width = cell * Double(perRow), height = titleHeight + row * Double(max(rows, 1))
        var parts = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
        ]
        if let title {
            parts.append("<text x=\"\(Int(width / 2))\" y=\"30\" text-anchor=\"middle\" font-size=\"17\">\(escape(title))</text>")
        }
        for (index, panel) in panels.enumerated() {
            let left = Double(index % perRow) * cell + marginLeft
            let top = titleHeight + Double(index / perRow) * row + marginTop
            parts += panel.elements(left: left, top: top, width: panelWidth, height: panelHeight)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    static let legendRowHeight = 18.0

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// [low, high] widened by `padding` of its span on each side (and made non-empty).
    static func paddedRange(_ low: Double, _ high: Double, padding: Double) -> ClosedRange<Double> {
        let span = high - low
        // One value: a little room around it, not a unit on each side (which runs a score's axis below 0).
        guard span > 0 else {
            let half = low == 0 ? 0.5 : abs(low) * 0.1
            return (low - half)...(high + half)
        }
        return (low - span * padding)...(high + span * padding)
    }

    /// About five round ticks (1, 2 or 5 times a power of ten apart) within `range`.
    static func ticks(_ range: ClosedRange<Double>) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [range.lowerBound] }
        let rough = span / 5, power = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? rough
        let first = (range.lowerBound / step).rounded(.up) * step
        return stride(from: first, through: range.upperBound + step * 1e-9, by: step).map { abs($0) < step * 1e-9 ? 0 : $0 }
    }

    /// At most about `limit` points, keeping the curve's shape at that resolution.
    static func thin(_ points: [(x: Double, y: Double)], limit: Int = 600) -> [(x: Double, y: Double)] {
        guard points.count > limit else { return points }
        let step = Double(points.count - 1) / Double(limit - 1)
        return (0..<limit).map { points[Int((Double($0) * step).rounded())] }
    }
}
