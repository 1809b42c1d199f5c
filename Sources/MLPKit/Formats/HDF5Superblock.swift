import Foundation

/// What HDF5's superblock says of a file that libhdf5 cannot open: its recorded length, so that
/// a truncated file is named as one.
extension HDF5 {
    /// The file's length as its superblock records it (its base address plus its end-of-file
    /// address), when the superblock is one of versions 0 to 3 and fits in `bytes`.
    public static func recordedLength(of bytes: Data) -> Int? {
        guard let start = signatureOffset(in: bytes) else { return nil }
        let superblock = bytes.dropFirst(start)
        func byte(_ at: Int) -> Int? { at < superblock.count ? Int(superblock[superblock.startIndex + at]) : nil }
        func address(_ at: Int, _ size: Int) -> Int? {
            guard at + size <= superblock.count, [2, 4, 8].contains(size) else { return nil }
            var value: UInt64 = 0
            for i in (0..<size).reversed() { value = value << 8 | UInt64(superblock[superblock.startIndex + at + i]) }
            return value < UInt64(Int.max / 2) ? Int(value) : nil
        }
        guard let version = byte(8) else { return nil }
        let offsets: Int?, addresses: Int
        switch version {
        case 0: (offsets, addresses) = (byte(13), 24)
        case 1: (offsets, addresses) = (byte(13), 28)
        case 2, 3: (offsets, addresses) = (byte(9), 12)
        default: return nil
        }
        // Base address, then (free space or extension), then the end-of-file address.
        guard let size = offsets, let base = address(addresses, size), let end = address(addresses + 2 * size, size) else { return nil }
        return base + end
    }

    /// Why libhdf5 could not open a file of `bytes`: its own message, after the file's
    /// truncation when the superblock says it is longer than it is.
    static func openProblem(_ bytes: Data) -> String {
        let message = "cannot open HDF5 file (\(lastError()))"
        guard let length = recordedLength(of: bytes), length > bytes.count else { return message }
        return "is truncated: it has \(bytes.count) bytes and its HDF5 superblock says \(length); \(message)"
    }
}
