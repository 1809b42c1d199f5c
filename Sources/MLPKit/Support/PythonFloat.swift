/// `x` as Python's `repr(float)` spells it: the shortest digits that read back as `x` (Swift
/// finds the same digits), in fixed notation for exponents -4 to 15 ("0.0001", "5.0") and in
/// scientific notation otherwise ("1e-05", "1.5e+16"). Keras's CSV logs and messages print
/// floats this way.
public func pythonFloat(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    let sign = x.sign == .minus ? "-" : ""
    if x == 0 { return sign + "0.0" }
    // Swift's description: "123.456", "5.0", "1e-05" or "1.2345e+16"; take its digits and the
    // position of the decimal point.
    let text = abs(x).description
    var mantissa = Substring(text), exponent = 0
    if let e = text.firstIndex(of: "e") {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    var digits = Array(parts[0] + (parts.count > 1 ? parts[1] : ""))
    var point = parts[0].count + exponent
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        point -= 1
    }
    while digits.count > 1, digits.last == "0" { digits.removeLast() }
    let scientific = point - 1
    if scientific < -4 || scientific >= 16 {
        let head = String(digits[0]) + (digits.count > 1 ? "." + String(digits[1...]) : "")
        let magnitude = abs(scientific)
        return sign + head + (scientific < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }
    if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
    if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) + ".0" }
    return sign + String(digits[..<point]) + "." + String(digits[point...])
}

extension Float {
    /// The double nearest this float's shortest decimal form (0.9, not 0.8999999761581421), so
    /// configs read as they were written.
    public var decimalDouble: Double { Double(description) ?? Double(self) }
}
