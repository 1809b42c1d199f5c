import Foundation

/// `object` (what JSONSerialization reads or writes) as compact JSON with sorted keys, as this
/// toolchain writes the JSON it saves or prints: Keras's configs, reports, provenance. Floats
/// are spelled as Python's `json.dumps` spells them (`JSONValue.text`).
public func jsonText(_ object: Any) -> String { JSONValue(foundation: object).text }
