import CCrypto
import Foundation

/// A running MD5 or SHA-256 through OpenSSL's libcrypto (its EVP digests), fed as bytes stream
/// past, read out as lowercase hex.
final class Digest {
    /// The digests computed here, through OpenSSL's libcrypto.
    public enum Algorithm: Sendable {
        case md5, sha256
    }

    private let context: OpaquePointer

    public init(_ algorithm: Algorithm) {
        // Allocation of a few hundred bytes; OpenSSL returns nil only when memory is exhausted.
        guard let context = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context") }
        self.context = context
        EVP_DigestInit_ex(context, algorithm == .md5 ? EVP_md5() : EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// The SHA-256 of `bytes`, in hex.
    static func sha256<Bytes: ContiguousBytes>(of bytes: Bytes) -> String {
        let digest = Digest(.sha256)
        digest.update(bytes)
        return digest.hex
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update<Bytes: ContiguousBytes>(_ bytes: Bytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far, in hex; feeding may go on afterwards.
    public var hex: String {
        let copy = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(copy) }
        EVP_MD_CTX_copy_ex(copy, context)
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(copy, &bytes, &length)
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.prefix(Int(length)).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}

/// A digest computed on a thread of its own: `update` hands over a copy of the bytes and
/// returns, so that hashing a large file (0.12 s for CIFAR-100's archive) overlaps with what
/// the caller does with the same bytes. At most eight chunks wait; `update` blocks beyond that.
final class BackgroundDigest: @unchecked Sendable {
    private let digest: Digest
    private let condition = NSCondition()
    private var pending: [[UInt8]] = []
    private var hashing = false
    private var stopped = false

    init(_ algorithm: Digest.Algorithm) {
        digest = Digest(algorithm)
        let thread = Thread { [self] in run() }
        thread.name = "mlp-digest"
        thread.start()
    }

    private func run() {
        condition.lock()
        while true {
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty { break }
            let chunk = pending.removeFirst()
            hashing = true
            condition.unlock()
            digest.update(chunk)
            condition.lock()
            hashing = false
            condition.broadcast()
        }
        condition.unlock()
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let chunk = [UInt8](bytes)
        condition.lock()
        while pending.count >= 8 { condition.wait() }
        pending.append(chunk)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the bytes handed over so far, then gives their digest in hex.
    var hex: String {
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty || hashing { condition.wait() }
        return digest.hex
    }

    /// Lets the thread end once the pending bytes are hashed; call when done with the digest.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
