import Foundation

/// Prints progress lines: updated in place on a terminal, and on a pipe or file only the
/// final line of each bar, so logs stay readable.
public final class ProgressPrinter: @unchecked Sendable {
    /// The printer that progress bars and messages of a process share, so their lines never interleave.
    public static let shared = ProgressPrinter()
    private let lock = NSLock()
    private var lastLine: String?
    private var lastDraw = Date.distantPast
    /// Whether standard output is a terminal: the bar then redraws its line in place.
    public let isTerminal = isatty(STDOUT_FILENO) == 1

    /// Replaces the current line (at most ten times a second on a terminal). The line is built
    /// only when it is drawn or final, so a batch loop can call this on every step.
    public func update(_ line: @autoclosure () -> String, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        let due = isTerminal && Date().timeIntervalSince(lastDraw) > 0.1
        guard force || due else {
            lastLine = nil
            return
        }
        let text = line()
        lastLine = text
        guard isTerminal else { return }
        lastDraw = Date()
        emit("\r\u{1B}[K" + text)
    }

    // Through C's stdout, so that lines keep their order with print()'s.
    private func emit(_ text: String) {
        print(text, terminator: "")
        fflush(nil)
    }

    /// Ends the current bar, leaving its latest line.
    public func finish() {
        lock.lock()
        defer { lock.unlock() }
        guard let line = lastLine else { return }
        emit((isTerminal ? "\r\u{1B}[K" : "") + line + "\n")
        lastLine = nil
    }
}
