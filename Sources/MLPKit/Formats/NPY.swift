import Foundation

/// NumPy's `.npy` format, version 1.0, for float32 and int32 arrays: `np.load` reads what this writes.
public enum NPY {
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
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            for v in buffer {
                var bits = v.littleEndian
                withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
            }
        }
        return data
    }
}
