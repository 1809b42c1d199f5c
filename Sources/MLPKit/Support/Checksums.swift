import CISAL
import Foundation

/// The CRCs of the formats this toolchain speaks, through ISA-L.
enum Checksums {
    /// CRC-32 as zlib and Python's `binascii.crc32` compute it (ISA-L's `crc32_gzip_refl`).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { crc32_gzip_refl(0, $0.baseAddress, UInt64($0.count)) }
    }

    /// CRC32C (Castagnoli), as TFRecord files checksum (ISA-L's `crc32_iscsi`).
    static func crc32c(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { bytes -> UInt32 in
            guard let base = bytes.bindMemory(to: UInt8.self).baseAddress else { return 0 }
            return ~crc32_iscsi(UnsafeMutablePointer(mutating: base), Int32(bytes.count), 0xFFFF_FFFF)
        }
    }
}
