import Foundation

/// NumPy's `.npy` format: float32 and int32 arrays written in version 1.0, which `np.load`
/// reads; and C-ordered arrays of numbers read, as `np.load(allow_pickle=False)` reads them.
public enum NPY {
    /// An array read from a `.npy` file: its shape, and its values as bytes in the array's own
    /// element type (`descr`, NumPy's type string: "|u1", "<f4", "<i8", ...).
    public struct Array: Sendable {
        public var shape: [Int]
        public var descr: String
        public var bytes: Data

        /// Elements in the array.
        public var count: Int { shape.reduce(1, *) }

        /// The values as unsigned bytes; nil unless the array holds them.
        public var uint8s: [UInt8]? { descr == "|u1" || descr == "<u1" ? [UInt8](bytes) : nil }

        /// The values as floats (float32 exactly, float64 rounded, integers converted); nil for
        /// booleans and anything else.
        public var floats: [Float]? {
            switch descr {
            case "<f4": return bytes.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
            case "<f8": return bytes.withUnsafeBytes { raw in (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) } }
            default: return integers.map { $0.map(Float.init) }
            }
        }

        /// The values as integers, for integer arrays of 1, 2, 4 or 8 bytes; nil otherwise.
        public var integers: [Int]? {
            func read<T: FixedWidthInteger>(_ type: T.Type) -> [Int] {
                bytes.withUnsafeBytes { raw in (0..<count).map { Int(T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) } }
            }
            switch descr {
            case "|u1", "<u1": return bytes.map(Int.init)
            case "|i1", "<i1": return bytes.map { Int(Int8(bitPattern: $0)) }
            case "<u2": return read(UInt16.self)
            case "<i2": return read(Int16.self)
            case "<u4": return read(UInt32.self)
            case "<i4": return read(Int32.self)
            case "<i8": return read(Int64.self)
            case "<u8": return bytes.withUnsafeBytes { raw in (0..<count).map { Int(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } }
            default: return nil
            }
        }
    }

    /// The element sizes of the types this reads.
    static let elementSizes = ["|u1": 1, "<u1": 1, "|i1": 1, "<i1": 1, "<u2": 2, "<i2": 2, "<u4": 4, "<i4": 4, "<f4": 4, "<u8": 8, "<i8": 8, "<f8": 8]

    /// Reads a `.npy` file's bytes; `path` names it in errors. Object arrays are refused, as
    /// `np.load(allow_pickle=False)` refuses them, and so are Fortran-ordered, big-endian and
    /// other arrays this does not read; the header's claims are checked against the bytes
    /// before anything is allocated.
    public static func decode(_ data: Data, path: String) throws -> Array {
        func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1...5]) == Swift.Array("NUMPY".utf8) else { throw fail("not a .npy array") }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard major >= 1, major <= 3, bytes.count >= headerStart else { throw fail("a .npy array of an unknown version \(major)") }
        let length = major == 1 ? Int(bytes[8]) | Int(bytes[9]) << 8
            : Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard length <= 1 << 16, data.count >= headerStart + length else { throw fail("a .npy header cut short") }
        let start = data.startIndex + headerStart
        let header = String(decoding: data[start..<(start + length)], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let descrField = field("descr"), descrField.first == "'" else { throw fail("a .npy header without its type") }
        let descr = String(descrField.dropFirst().prefix { $0 != "'" })
        if descr.hasPrefix("|O") || descr.hasPrefix("O") {
            throw fail("holds an object array, which is refused as np.load(allow_pickle=False) refuses it")
        }
        guard let size = elementSizes[descr] else { throw fail("holds '\(descr)' values; numbers (uint8, integers, float32, float64) are read") }
        guard field("fortran_order")?.hasPrefix("False") == true else { throw fail("holds a Fortran-ordered array; C order is read") }
        guard let shapeField = field("shape"), shapeField.first == "(", let close = shapeField.firstIndex(of: ")") else {
            throw fail("a .npy header without its shape")
        }
        let dims = shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = [], count = 1
        for dim in dims {
            guard let n = Int(dim), n >= 0 else { throw fail("a .npy shape of '\(dim)'") }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("a .npy shape too large") }
            shape.append(n)
            count = product
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        let body = start + length
        guard !overflow, data.endIndex - body >= total else {
            throw fail("a .npy array of shape \(shape) needs \(overflow ? "more" : String(total)) bytes; the file holds \(data.endIndex - body)")
        }
        return Array(shape: shape, descr: descr, bytes: Data(data[body..<(body + total)]))
    }

    /// The bytes of a C-ordered little-endian float32 array of `shape`.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        encode(bitPatterns: values.map(\.bitPattern), descr: "<f4", shape: shape)
    }

    /// The bytes of a C-ordered little-endian int32 array of `shape`.
    public static func encode(int32s values: [Int32], shape: [Int]) -> Data {
        encode(bitPatterns: values.map { UInt32(bitPattern: $0) }, descr: "<i4", shape: shape)
    }

    private static func encode(bitPatterns values: [UInt32], descr: String, shape: [Int]) -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        // Magic (6) + version (2) + length (2) + header + newline: a multiple of 64 bytes.
        let total = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        var data = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Swift.Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            for v in buffer {
                var bits = v.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
        }
        return data
    }
}
