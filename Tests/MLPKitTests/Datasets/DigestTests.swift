import Foundation
import Testing
@testable import MLPKit

/// MD5 and SHA-256 through OpenSSL, against Python's hashlib.
@Suite struct DigestTests {
    /// Bytes that cross OpenSSL's 64-byte blocks unevenly: 0, 1, 55, 56, 64 and 1,000,003 bytes.
    static let lengths = [0, 1, 55, 56, 64, 1_000_003]

    @Test(arguments: lengths)
    func matchesHashlib(_ length: Int) throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("bytes").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for (algorithm, name) in [(Digest.Algorithm.md5, "md5"), (.sha256, "sha256")] {
            let whole = Digest(algorithm)
            whole.update(bytes)
            // Fed in uneven pieces, and read once in between: the same digest.
            let pieces = Digest(algorithm)
            var start = 0, size = 1
            while start < bytes.count {
                pieces.update(bytes[start..<min(start + size, bytes.count)].withUnsafeBytes { Array($0) })
                if start == 1 { _ = pieces.hex }
                start += size
                size = size * 3 + 1
            }
            let expected = try hashlibDigest(name, of: path)
            #expect(expected.count == (name == "md5" ? 32 : 64))
            #expect(whole.hex == expected, "\(name) of \(length) bytes")
            #expect(pieces.hex == expected, "\(name) of \(length) bytes in pieces")
        }
    }
}
