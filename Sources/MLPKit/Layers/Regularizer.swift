import Foundation

/// Keras's weight regularizers `L1`, `L2` and `L1L2`: a penalty on a kernel added to the loss,
/// `l1 · sum(|w|) + l2 · sum(w²)`, whose gradient `l1 · sign(w) + 2 · l2 · w` is added to the
/// kernel's.
public struct Regularizer: Sendable, Equatable {
    /// Factors of Keras's `L1L2`: the penalty is l1·Σ|w| + l2·Σw².
    public var l1: Float
    public var l2: Float

    public init(l1: Float = 0, l2: Float = 0) {
        self.l1 = l1
        self.l2 = l2
    }

    /// The penalty of `count` weights, summed in double precision.
    public func penalty(_ w: UnsafePointer<Float>, count: Int) -> Double {
        var absolute = 0.0, squares = 0.0
        for i in 0..<count {
            let v = Double(w[i])
            absolute += abs(v)
            squares += v * v
        }
        return Double(l1) * absolute + Double(l2) * squares
    }

    /// Adds the penalty's gradient to `gradient`.
    public func addGradient(_ w: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>, count: Int) {
        let twiceL2 = 2 * l2, l1 = l1
        if l1 == 0 {
            for i in 0..<count { gradient[i] += twiceL2 * w[i] }
        } else {
            for i in 0..<count {
                let sign: Float = w[i] > 0 ? 1 : (w[i] < 0 ? -1 : 0)
                gradient[i] += l1 * sign + twiceL2 * w[i]
            }
        }
    }

    /// Keras's class name for these factors.
    public var kerasClassName: String { l1 == 0 ? "L2" : (l2 == 0 ? "L1" : "L1L2") }

    /// The config object both Keras 3 and tf_keras read: `{"class_name": "L2", "config": {"l2": 0.01}}`.
    public func kerasObject() -> JSONValue {
        let config: JSONValue
        switch kerasClassName {
        case "L2": config = ["l2": JSONValue(l2)]
        case "L1": config = ["l1": JSONValue(l1)]
        default: config = ["l1": JSONValue(l1), "l2": JSONValue(l2)]
        }
        return ["module": "keras.regularizers", "class_name": .string(kerasClassName), "config": config, "registered_name": .null]
    }

    /// The regularizer a Keras config describes (nil for JSON null); an error naming the class
    /// when it is not one of Keras's weight penalties.
    public static func from(kerasObject value: JSONValue?, layer: String, source: String) throws -> Regularizer? {
        guard let value, !value.isNull else { return nil }
        let name = value["class_name"]?.string ?? value.string ?? "?"
        let config = value["config"]?.object ?? [:]
        func factor(_ key: String, _ fallback: Float) throws -> Float {
            guard let raw = config[key], !raw.isNull else { return fallback }
            guard let number = raw.number, number.isFinite, number >= 0 else {
                throw MLPError.format(path: source, problem: "layer '\(layer)': regularizer \(name) has a \(key) that is not a number of at least 0")
            }
            return Float(number)
        }
        switch name {
        case "L2", "l2": return Regularizer(l2: try factor("l2", 0.01))
        case "L1", "l1": return Regularizer(l1: try factor("l1", 0.01))
        case "L1L2", "l1_l2": return Regularizer(l1: try factor("l1", 0), l2: try factor("l2", 0))
        default:
            throw MLPError.format(path: source, problem: "layer '\(layer)' has regularizer \(name), which is not supported (supported: L1, L2, L1L2)")
        }
    }
}
