import CZlib
import Crypto
import Foundation

/// Reads a file, gunzipping it through zlib when it starts with the gzip magic bytes, and
/// hashes the raw file bytes (SHA-256) as they stream past.
public final class CompressedFileReader {
    public let path: String
    public let isGzip: Bool
    private let handle: FileHandle
    private var stream = z_stream()
    private var input = [UInt8]()
    private var inputOffset = 0
    private var finished = false
    private var hasher = SHA256()

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MLPError.io(path: path, problem: FileManager.default.fileExists(atPath: path) ? "cannot read file" : "no such file")
        }
        self.path = path
        self.handle = handle
        let magic = (try? handle.read(upToCount: 2)) ?? Data()
        hasher.update(data: magic)
        input = Array(magic)
        isGzip = magic.count == 2 && magic[magic.startIndex] == 0x1F && magic[magic.startIndex + 1] == 0x8B
        if isGzip {
            guard czlib_inflate_init2(&stream, 16 + MAX_WBITS) == Z_OK else {
                throw MLPError.io(path: path, problem: "zlib could not start")
            }
        }
    }

    deinit {
        if isGzip { inflateEnd(&stream) }
        try? handle.close()
    }

    /// SHA-256 of the file bytes read so far, in hex.
    public var sha256: String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// Reads the rest of the raw file into the hash (after the last member is found).
    public func hashRemainder() throws {
        while try refill() {}
    }

    private func refill() throws -> Bool {
        let chunk = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        if chunk.isEmpty { return false }
        hasher.update(data: chunk)
        input = Array(chunk)
        inputOffset = 0
        return true
    }

    /// Fills `buffer` completely, or fails: a short file is an error, never a short read.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        var filled = 0
        while filled < buffer.count {
            if inputOffset == input.count, !(try refill()) {
                throw MLPError.format(path: path, problem: isGzip ? "truncated gzip data" : "unexpected end of file")
            }
            if !isGzip {
                let n = min(buffer.count - filled, input.count - inputOffset)
                input.withUnsafeBytes { (buffer.baseAddress! + filled).copyMemory(from: $0.baseAddress! + inputOffset, byteCount: n) }
                inputOffset += n
                filled += n
                continue
            }
            if finished { throw MLPError.format(path: path, problem: "gzip stream ended early (archive truncated)") }
            let status: Int32 = input.withUnsafeMutableBufferPointer { source in
                stream.next_in = source.baseAddress! + inputOffset
                stream.avail_in = uInt(source.count - inputOffset)
                stream.next_out = (buffer.baseAddress! + filled).assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(buffer.count - filled)
                let status = inflate(&stream, Z_NO_FLUSH)
                inputOffset = source.count - Int(stream.avail_in)
                filled = buffer.count - Int(stream.avail_out)
                return status
            }
            switch status {
            case Z_OK, Z_BUF_ERROR: continue
            case Z_STREAM_END: finished = true
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw MLPError.format(path: path, problem: "corrupt gzip data (\(message))")
            }
        }
    }

    public func read(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(into: $0) }
        return bytes
    }

    /// Reads and discards `count` bytes.
    public func skip(_ count: Int) throws {
        var remaining = count
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while remaining > 0 {
            let n = min(remaining, scratch.count)
            try scratch.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= n
        }
    }
}
