import Foundation
import Synchronization

/// A fixed set of worker threads that split one piece of numeric work with the calling thread.
///
/// libdispatch's `concurrentPerform` would do, but on a virtual machine waking a sleeping core
/// can take longer than a piece of work (a product of 0.3 ms): the caller then runs every piece
/// itself, and whole training runs came out 1.6 times slower, at random. These workers spin
/// for a few milliseconds after each piece, as OpenBLAS's own do, so a batch loop finds them
/// awake, and sleep when the work stops.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: max(ProcessInfo.processInfo.activeProcessorCount - 1, 0))

    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let callerWait = Atomic<UInt64>(0)
    private let condition = NSCondition()
    // Written by the caller before `generation` is released, read by workers after acquiring it.
    private var job: ((Int) -> Void)?
    private var pieces = 0
    let workers: Int

    private init(workers: Int) {
        self.workers = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.work(piece: index + 1) }
            thread.name = "mlp-worker-\(index + 1)"
            thread.start()
        }
    }

    /// Nanoseconds the callers of `run` have spent handing pieces out and waiting for the
    /// workers to finish theirs (`StepProfile`'s hand-offs).
    var callerWaitNanoseconds: UInt64 { callerWait.load(ordering: .relaxed) }

    /// Runs `body(0)` ..< `body(pieces - 1)`, piece 0 on the calling thread, and returns true
    /// when all are done; returns false at once, running nothing, when the pool is in use by
    /// another thread or has too few workers, so that the caller can do the work its own way.
    func run(pieces: Int, _ body: (Int) -> Void) -> Bool {
        let count = min(pieces, workers + 1)
        guard count == pieces, count > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            let started = StepProfile.now()
            condition.lock()
            job = body
            self.pieces = count
            remaining.store(count - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            condition.broadcast()
            condition.unlock()
            let handedOut = StepProfile.now()
            body(0)
            let finished = StepProfile.now()
            while remaining.load(ordering: .acquiring) > 0 {}
            job = nil
            callerWait.add((handedOut &- started) &+ (StepProfile.now() &- finished), ordering: .relaxed)
        }
        return true
    }

    /// Runs one piece, holding the job only for the call: the caller's non-escaping closure must
    /// have no reference left once the piece is counted done.
    @inline(never)
    private func runPiece(_ piece: Int) { job?(piece) }

    private func work(piece: Int) {
        flushDenormalsToZero()
        // Signals are for a thread that does not compute: a handler would run on this thread's
        // stack, below which oneDNN's JIT kernels keep values.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var seen = 0
        while true {
            var spins = 0, idleSince = DispatchTime.now().uptimeNanoseconds
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                guard spins & 1023 == 0 else { continue }
                // After 5 ms without work, sleep until the next piece arrives.
                if DispatchTime.now().uptimeNanoseconds - idleSince > 5_000_000 {
                    condition.lock()
                    while generation.load(ordering: .acquiring) == seen { condition.wait() }
                    condition.unlock()
                    idleSince = DispatchTime.now().uptimeNanoseconds
                }
            }
            seen = generation.load(ordering: .acquiring)
            if piece < pieces {
                runPiece(piece)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }
}
