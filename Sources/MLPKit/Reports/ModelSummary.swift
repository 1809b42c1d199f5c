import Foundation

/// What `model.summary()` shows, and what a saved file says beyond it.
public enum ModelSummary {
    /// One row of the summary table: a layer's name, Keras class name, output shape (without the batch) and
    /// weight count.
    public struct Row {
        public var name: String
        public var type: String
        public var outputShape: [Int]
        public var parameters: Int
    }

    /// The summary's rows, one per layer, in order.
    public static func rows(_ model: Sequential) -> [Row] {
        model.layers.map { Row(name: $0.name, type: $0.kerasClassName, outputShape: $0.outputShape, parameters: $0.parameterCount) }
    }

    /// Keras's "(None, 128)".
    public static func shapeText(_ shape: [Int]) -> String {
        "(None, " + shape.map(String.init).joined(separator: ", ") + ")"
    }

    /// Keras's size of float32 weights: "1.55 MB", in powers of 1024.
    public static func sizeText(parameters: Int) -> String {
        var size = Double(parameters * 4)
        for unit in ["B", "KB", "MB", "GB"] {
            if size < 1024 || unit == "GB" { return String(format: "%.2f %@", size, unit) }
            size /= 1024
        }
        return ""
    }

    /// "406,244".
    public static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    /// The table of Keras 3's `model.summary()`.
    public static func table(_ model: Sequential) -> String {
        let widths = [33, 24, 15]
        func line(_ l: String, _ m: String, _ r: String, _ fill: String) -> String {
            l + widths.map { String(repeating: fill, count: $0) }.joined(separator: m) + r
        }
        func cells(_ a: String, _ b: String, _ c: String, _ bar: String) -> String {
            func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
                let inner = w - 2
                let text = s.count > inner ? String(s.prefix(inner - 1)) + "…" : s
                let space = String(repeating: " ", count: inner - text.count)
                return " " + (right ? space + text : text + space) + " "
            }
            return bar + pad(a, widths[0]) + bar + pad(b, widths[1]) + bar + pad(c, widths[2], right: true) + bar
        }
        var lines = ["Model: \"\(model.name)\"", line("┏", "┳", "┓", "━"), cells("Layer (type)", "Output Shape", "Param #", "┃"),
                     line("┡", "╇", "┩", "━")]
        let rows = rows(model)
        for (i, row) in rows.enumerated() {
            lines.append(cells("\(row.name) (\(row.type))", shapeText(row.outputShape), grouped(row.parameters), "│"))
            lines.append(i == rows.count - 1 ? line("└", "┴", "┘", "─") : line("├", "┼", "┤", "─"))
        }
        let total = model.parameters.reduce(0) { $0 + $1.count }
        let trainable = model.trainableParameters.reduce(0) { $0 + $1.count }
        lines.append(" Total params: \(grouped(total)) (\(sizeText(parameters: total)))")
        lines.append(" Trainable params: \(grouped(trainable)) (\(sizeText(parameters: trainable)))")
        lines.append(" Non-trainable params: \(grouped(total - trainable)) (\(sizeText(parameters: total - trainable)))")
        return lines.joined(separator: "\n")
    }

    /// Per-weight statistics: shape, min, max, mean, standard deviation, NaN and infinity counts.
    public struct WeightStatistics {
        public var layer: String
        public var name: String
        public var shape: [Int]
        public var min: Double
        public var max: Double
        public var mean: Double
        public var standardDeviation: Double
        public var nanCount: Int
        public var infiniteCount: Int
    }

    /// Statistics of every weight of every layer, in the order the file stores them (`mlp-inspect --weights`).
    public static func weightStatistics(_ model: Sequential) -> [WeightStatistics] {
        model.layers.flatMap { layer in
            layer.parameters.map { p in
                let values = p.value.array
                let finite = values.filter(\.isFinite).map(Double.init)
                let mean = finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
                let variance = finite.isEmpty ? .nan : finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(finite.count)
                return WeightStatistics(layer: layer.name, name: p.name, shape: p.shape, min: finite.min() ?? .nan,
                                        max: finite.max() ?? .nan, mean: mean, standardDeviation: variance.squareRoot(),
                                        nanCount: values.filter(\.isNaN).count, infiniteCount: values.filter(\.isInfinite).count)
            }
        }
    }
}
