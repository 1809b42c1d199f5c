import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads a file with a progress bar, verifying its checksum before it takes its final name.
public enum Download {
    /// A file's expected checksum, as Keras's `get_file` takes one: MD5 or SHA-256, in hex.
    public enum Checksum: Sendable {
        case md5(String), sha256(String)
        /// No checksum to check (Keras gives none for some files).
        case none

        var algorithm: Digest.Algorithm { if case .md5 = self { return .md5 } else { return .sha256 } }
        var hex: String? {
            switch self {
            case .md5(let hex), .sha256(let hex): return hex.lowercased()
            case .none: return nil
            }
        }
        var name: String { if case .md5 = self { return "MD5" } else { return "SHA-256" } }
    }

    /// Fetches `url` to `destination`. The bytes go to a temporary file beside it, hashed as they
    /// arrive; only a complete download of the expected checksum is renamed into place.
    public static func fetch(url: URL, to destination: String, checksum expected: Checksum,
                             progress: @escaping @Sendable (_ received: Int64, _ total: Int64) -> Void) throws {
        let delegate = Receiver(progress: progress, algorithm: expected.algorithm)
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
            if let wanted = expected.hex, actual != wanted {
                throw MLPError.download(url: url.absoluteString, problem:
                    "checksum mismatch: \(expected.name) \(actual), expected \(wanted) (download discarded)")
            }
        }
    }

    /// Collects the response body into a file and a running MD5.
    final class Receiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let progress: @Sendable (Int64, Int64) -> Void
        var handle: FileHandle?
        let hasher: Digest
        var received: Int64 = 0
        var expected: Int64 = -1
        var failure: String?

        init(progress: @escaping @Sendable (Int64, Int64) -> Void, algorithm: Digest.Algorithm) {
            self.progress = progress
            hasher = Digest(algorithm)
        }

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

extension Download {
    /// A file of a dataset where Keras keeps it (`~/.keras/datasets/NAME`), downloaded there from
    /// `url` when missing, as Keras's `get_file` does, its checksum checked; returns its path.
    ///
    /// - Parameter title: what the messages call it ("CIFAR-100"); the file's name by default.
    public static func cached(_ name: String, title: String? = nil, url: String, checksum: Checksum?, log: (String) -> Void) throws -> String {
        let path = DatasetSources.kerasDatasetsFolder + "/" + name
        if FileManager.default.fileExists(atPath: path) { return path }
        guard let address = URL(string: url) else { throw MLPError.usage("download URL '\(url)' is not a URL") }
        log("Downloading \(title ?? name) from \(url) to \(path)")
        do {
            try fetch(url: address, to: path, checksum: checksum ?? .none) { received, total in
                ProgressPrinter.shared.update(downloadProgressLine(received: received, total: total), force: received == total)
            }
            ProgressPrinter.shared.finish()
        } catch {
            ProgressPrinter.shared.finish()
            var reason = "\(error)"
            if case MLPError.download(_, let problem) = error { reason = problem }
            throw MLPError.download(url: url, problem: "no \(title ?? name) found in \(DatasetSources.kerasDatasetsFolder) and the download failed (\(reason))")
        }
        return path
    }
}
