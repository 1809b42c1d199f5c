import Foundation

/// The activation functions of Keras, by their Keras names.
///
/// Forward and backward work on a whole batch at once: `z` is the pre-activation (rows, width),
/// `a` the activation of the same shape. Backward turns the gradient with respect to `a` into the
/// gradient with respect to `z`, in place.
public enum Activation: String, CaseIterable, Sendable {
    case linear, relu, sigmoid, tanh, softmax, gelu, elu, selu, swish

    /// Accepts Keras's aliases too ("silu" is swish).
    public init?(kerasName: String) {
        if kerasName == "silu" { self = .swish; return }
        self.init(rawValue: kerasName)
    }

    // SELU's constants as Keras defines them.
    static let seluAlpha: Float = 1.673_263_242_354_377_3
    static let seluScale: Float = 1.050_700_987_355_480_5

    /// Adds `bias` (one value per column) to `z` in place, then writes `a = f(z)`, in one pass,
    /// for `rows` rows of `width` values. `a` may alias `z` for activations whose backward pass
    /// does not need `z` (see `needsPreActivation`).
    public func forward(
        _ z: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        bias: UnsafePointer<Float>? = nil, threads: Int = 1
    ) {
        // Exponentials and the like cost enough per value to spread a batch over the cores;
        // ReLU and linear only when the batch is large.
        let perPiece = self == .relu || self == .linear ? 1 << 16 : 1 << 12
        parallelRanges(rows, pieces: min(threads, rows * width / perPiece), alignment: 1) { range in
            let offset = range.lowerBound * width
            forwardRows(z + offset, a + offset, rows: range.count, width: width, bias: bias)
        }
    }

    private func forwardRows(
        _ z: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        bias: UnsafePointer<Float>?
    ) {
        switch self {
        case .linear: Self.map(z, a, rows, width, bias) { $0 }
        case .relu: Self.map(z, a, rows, width, bias) { max($0, 0) }
        case .sigmoid: Self.map(z, a, rows, width, bias) { Self.sigmoid($0) }
        case .tanh: Self.map(z, a, rows, width, bias) { Foundation.tanh($0) }
        case .gelu: Self.map(z, a, rows, width, bias) { 0.5 * $0 * (1 + erf($0 * Float(0.5.squareRoot()))) }
        case .elu: Self.map(z, a, rows, width, bias) { $0 > 0 ? $0 : expm1($0) }
        case .selu: Self.map(z, a, rows, width, bias) { Self.seluScale * ($0 > 0 ? $0 : Self.seluAlpha * expm1($0)) }
        case .swish: Self.map(z, a, rows, width, bias) { $0 * Self.sigmoid($0) }
        case .softmax:
            Self.map(z, z, rows, width, bias) { $0 }
            for r in 0..<rows { Self.softmaxRow(z + r * width, a + r * width, width) }
        }
    }

    @inline(__always)
    private static func map(
        _ z: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ rows: Int, _ width: Int,
        _ bias: UnsafePointer<Float>?, _ f: (Float) -> Float
    ) {
        if let bias {
            for r in 0..<rows {
                let zr = z + r * width, ar = a + r * width
                for j in 0..<width {
                    let v = zr[j] + bias[j]
                    zr[j] = v
                    ar[j] = f(v)
                }
            }
        } else {
            for i in 0..<(rows * width) { a[i] = f(z[i]) }
        }
    }

    /// Turns `grad` (dL/da) into dL/dz in place, given the forward pass's `z` and `a`.
    public func backward(
        _ grad: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>, a: UnsafePointer<Float>,
        rows: Int, width: Int
    ) {
        let n = rows * width
        switch self {
        case .linear:
            break
        case .relu:
            // Eight at a time: the scalar loop does not vectorise. A NaN activation keeps its gradient.
            var i = 0
            while i + 8 <= n {
                let active = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                let g = UnsafeRawPointer(grad + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(grad + i).storeBytes(of: g.replacing(with: 0, where: active .<= 0), as: SIMD8<Float>.self)
                i += 8
            }
            while i < n {
                if a[i] <= 0 { grad[i] = 0 }
                i += 1
            }
        case .sigmoid:
            for i in 0..<n { grad[i] *= a[i] * (1 - a[i]) }
        case .tanh:
            for i in 0..<n { grad[i] *= 1 - a[i] * a[i] }
        case .gelu:
            let invSqrt2 = Float(0.5.squareRoot()), invSqrt2Pi = Float(1 / (2 * Double.pi).squareRoot())
            for i in 0..<n {
                let x = z[i]
                grad[i] *= 0.5 * (1 + erf(x * invSqrt2)) + x * invSqrt2Pi * exp(-0.5 * x * x)
            }
        case .elu:
            for i in 0..<n where z[i] <= 0 { grad[i] *= a[i] + 1 }
        case .selu:
            for i in 0..<n { grad[i] *= z[i] > 0 ? Self.seluScale : a[i] + Self.seluScale * Self.seluAlpha }
        case .swish:
            for i in 0..<n {
                let s = Self.sigmoid(z[i])
                grad[i] *= s * (1 + z[i] * (1 - s))
            }
        case .softmax:
            // dz_i = a_i (g_i - sum_j g_j a_j), row by row.
            for r in 0..<rows {
                let g = grad + r * width, p = a + r * width
                var dot: Float = 0
                for j in 0..<width { dot += g[j] * p[j] }
                for j in 0..<width { g[j] = p[j] * (g[j] - dot) }
            }
        }
    }

    /// Whether backward reads `z`; the others can overwrite `z` with `a`.
    public var needsPreActivation: Bool {
        switch self {
        case .gelu, .elu, .selu, .swish: return true
        default: return false
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x))
    }

    /// Numerically stable softmax of one row: shift by the maximum before exponentiating.
    @inline(__always)
    static func softmaxRow(_ z: UnsafePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ width: Int) {
        var top = -Float.infinity
        for j in 0..<width { top = max(top, z[j]) }
        var sum: Float = 0
        for j in 0..<width {
            let e = exp(z[j] - top)
            a[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<width { a[j] *= inv }
    }
}

extension Activation {
    /// Appends this activation applied to `input`; returns the output's name (`input` itself
    /// for linear).
    func export(to graph: inout ONNXGraph, input: String, stem: String) -> String {
        switch self {
        case .linear: return input
        case .relu: return graph.add("Relu", [input], stem: stem)
        case .sigmoid: return graph.add("Sigmoid", [input], stem: stem)
        case .tanh: return graph.add("Tanh", [input], stem: stem)
        case .softmax: return graph.add("Softmax", [input], stem: stem, ints: ["axis": -1])
        case .elu: return graph.add("Elu", [input], stem: stem, floats: ["alpha": 1])
        case .selu: return graph.add("Selu", [input], stem: stem, floats: ["alpha": Self.seluAlpha, "gamma": Self.seluScale])
        case .swish:
            let gate = graph.add("Sigmoid", [input], stem: stem + "/sigmoid")
            return graph.add("Mul", [input, gate], stem: stem)
        case .gelu:
            // 0.5 · x · (1 + erf(x · √½)), Keras's exact gelu, as it is computed here.
            let root = graph.constant(graph.fresh(stem + "/sqrt_half"), [Float(0.5.squareRoot())], shape: [])
            let one = graph.constant(graph.fresh(stem + "/one"), [1], shape: [])
            let half = graph.constant(graph.fresh(stem + "/half"), [0.5], shape: [])
            let erf = graph.add("Erf", [graph.add("Mul", [input, root], stem: stem + "/scaled")], stem: stem + "/erf")
            let gate = graph.add("Add", [erf, one], stem: stem + "/gate")
            return graph.add("Mul", [graph.add("Mul", [input, half], stem: stem + "/half_x"), gate], stem: stem)
        }
    }
}
