import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads a file with a progress bar, verifying its MD5 before it takes its final name.
public enum Download {
    /// Fetches `url` to `destination`. The bytes go to a temporary file beside it, hashed as they
    /// arrive; only a complete download with the expected MD5 is renamed into place.
    public static func fetch(url: URL, to destination: String, md5 expected: String,
                             progress: @escaping @Sendable (_ received: Int64, _ total: Int64) -> Void) throws {
        let delegate = Receiver(progress: progress)
        let folder = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(to: destination) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                  let handle = FileHandle(forWritingAtPath: temporary)
            else { throw MLPError.io(path: destination, problem: "cannot write the download") }
            delegate.handle = handle
            let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
            var request = URLRequest(url: url)
            request.timeoutInterval = 60
            session.dataTask(with: request).resume()
            delegate.done.wait()
            session.finishTasksAndInvalidate()
            try? handle.close()
            if delegate.expected > 0, delegate.received != delegate.expected {
                throw MLPError.download(url: url.absoluteString, problem:
                    "truncated download: \(delegate.received) of \(delegate.expected) bytes"
                    + (delegate.failure.map { " (\($0))" } ?? ""))
            }
            if let failure = delegate.failure { throw MLPError.download(url: url.absoluteString, problem: failure) }
            let actual = delegate.hasher.hex
            guard actual == expected.lowercased() else {
                throw MLPError.download(url: url.absoluteString, problem:
                    "checksum mismatch: MD5 \(actual), expected \(expected) (download discarded)")
            }
        }
    }

    /// Collects the response body into a file and a running MD5.
    final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let progress: @Sendable (Int64, Int64) -> Void
        var handle: FileHandle?
        let hasher = Digest(.md5)
        var received: Int64 = 0
        var expected: Int64 = -1
        var failure: String?

        init(progress: @escaping @Sendable (Int64, Int64) -> Void) { self.progress = progress }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
            if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                failure = "HTTP status \(http.statusCode)"
                completionHandler(.cancel)
                return
            }
            expected = response.expectedContentLength
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            handle?.write(data)
            hasher.update(data)
            received += Int64(data.count)
            progress(received, expected)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
            if let error, failure == nil { failure = error.localizedDescription }
            done.signal()
        }
    }
}

/// A one-line text progress bar for downloads: "  12.3 MB / 169.0 MB ━━━━━━━━━━━━━━━━━━━━  7%".
public func downloadProgressLine(received: Int64, total: Int64) -> String {
    let mb = { (bytes: Int64) in String(format: "%.1f MB", Double(bytes) / 1_000_000) }
    guard total > 0 else { return "  \(mb(received))" }
    let fraction = min(Double(received) / Double(total), 1)
    return "  \(mb(received)) / \(mb(total)) \(progressBar(fraction)) \(Int(fraction * 100))%"
}

/// Keras's 20-cell bar.
public func progressBar(_ fraction: Double, width: Int = 20) -> String {
    let filled = Int((fraction * Double(width)).rounded(.down))
    return String(repeating: "━", count: filled) + String(repeating: "─", count: max(width - filled, 0))
}
