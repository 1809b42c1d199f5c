import Foundation

/// `object` as compact JSON with sorted keys, as this toolchain writes every JSON it saves or
/// prints; empty if `object` holds something JSON cannot (such as NaN).
public func jsonText(_ object: Any) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

