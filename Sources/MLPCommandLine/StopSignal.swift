import Foundation
import Synchronization

private let stopRequested = Atomic<Bool>(false)

/// Ctrl-C (SIGINT) and SIGTERM during training: the first asks training to stop after the
/// current step, so that the model trained so far can be saved; a second one ends the
/// process at once, as the signal would by default.
///
/// The handler runs on a thread of its own that does nothing else: the threads that compute
/// (this one and the worker pool's, which block the signals themselves) keep them blocked.
/// oneDNN's JIT kernels keep values below the stack pointer, which a handler running on a
/// computing thread's stack would overwrite (seen as heap corruption after a Ctrl-C).
public enum StopSignal {
    private static let installed = Atomic<Bool>(false)

    /// Starts catching SIGINT and SIGTERM.
    public static func install() {
        guard installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            // Only async-signal-safe work here: an atomic store and signal().
            signal(signalNumber) { received in
                stopRequested.store(true, ordering: .relaxed)
                signal(received, SIG_DFL)
            }
        }
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let blocked = signals
        let catcher = Thread {
            // A launcher may hand the process these signals blocked (a test runner does): unblock
            // them here, the one thread where the handler runs.
            var unblock = blocked
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            while true { pause() }
        }
        catcher.name = "mlp-signals"
        catcher.start()
    }

    /// Whether a stop has been asked for since `install`.
    public static var isRequested: Bool { stopRequested.load(ordering: .relaxed) }
}
