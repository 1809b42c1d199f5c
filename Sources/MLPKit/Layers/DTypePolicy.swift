import Foundation

/// Keras's dtype policy of a layer: the type its weights are kept in and the type it computes in.
public enum DTypePolicy: String, CaseIterable, Sendable {
    /// Weights and products in float32.
    case float32
    /// Keras's `mixed_bfloat16`: weights, optimizer state, loss and softmax in float32; a
    /// Dense layer's matrix products take bfloat16 operands and sum in float32.
    case mixedBFloat16 = "mixed_bfloat16"

    /// Reads a layer config's `dtype`: a policy name (Keras 2), a `DTypePolicy` object (Keras 3),
    /// or nothing (float32).
    ///
    /// - Parameters:
    ///   - layer: the layer's name, for the error.
    ///   - source: the file, for the error.
    public init(kerasValue value: JSONValue?, layer: String, source: String) throws {
        var name = value
        if value?.object != nil { name = value?["config"]?["name"] }
        guard name == nil || name == .null else {
            guard let text = name?.string, let policy = DTypePolicy(rawValue: text) else {
                throw MLPError.format(path: source, problem: "layer '\(layer)' has dtype policy \(name.map { $0.string ?? $0.text } ?? "?"), "
                    + "which is not supported (supported: \(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            self = policy
            return
        }
        self = .float32
    }
}
