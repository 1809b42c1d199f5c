import Foundation

/// `object` as compact JSON with sorted keys, as this toolchain writes every JSON it saves or
/// prints; empty if `object` holds something JSON cannot (such as NaN).
public func jsonText(_ object: Any) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

/// The numbers of the object under `key` in the JSON object `data`, read exactly.
///
/// JSONSerialization reads a number of 17 significant digits (as `jsonText` writes a double) up
/// to one unit in the last place off (0.0005285006792644589 came back 1 ulp low), while
/// JSONDecoder reads it exactly; entries that are not numbers are left out.
func exactDoubles(in data: Data, under key: String) -> [String: Double] {
    struct Number: Decodable {
        let value: Double?
        init(from decoder: Decoder) throws { value = try? decoder.singleValueContainer().decode(Double.self) }
    }
    struct Root: Decodable {
        let entries: [String: Number]
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            let name = decoder.userInfo[CodingUserInfoKey(rawValue: "key")!] as? String ?? ""
            entries = (try? container.decode([String: Number].self, forKey: Key(stringValue: name))) ?? [:]
        }
    }
    let decoder = JSONDecoder()
    decoder.userInfo[CodingUserInfoKey(rawValue: "key")!] = key
    guard let root = try? decoder.decode(Root.self, from: data) else { return [:] }
    return root.entries.compactMapValues(\.value)
}
