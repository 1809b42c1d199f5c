import Foundation
import Synchronization

private let stopRequested = Atomic<Bool>(false)

/// Ctrl-C (SIGINT) and SIGTERM during training: the first asks training to stop after the
/// current step, so that the model trained so far can be saved; a second one ends the
/// process at once, as the signal would by default.
public enum StopSignal {
    /// Starts catching SIGINT and SIGTERM.
    public static func install() {
        // A launcher may hand the process these signals blocked (a test runner does); a
        // handler would then never run.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            // Only async-signal-safe work here: an atomic store and signal().
            signal(signalNumber) { received in
                stopRequested.store(true, ordering: .relaxed)
                signal(received, SIG_DFL)
            }
        }
    }

    /// Whether a stop has been asked for since `install`.
    public static var isRequested: Bool { stopRequested.load(ordering: .relaxed) }
}
