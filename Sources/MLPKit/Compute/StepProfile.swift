import Foundation
import Synchronization

/// Where training steps' time goes, part by part, measured as the steps run: the clock read at
/// each part's edges on the training thread. The time the training thread waits for the other
/// cores' pieces of a split pass (and hands the pieces out) is counted once, as hand-offs, not
/// in the part it happened in.
public final class StepProfile: @unchecked Sendable {
    /// The parts of a step.
    public enum Part: Int, CaseIterable, Sendable {
        /// Copying the batch's samples into the input buffer, scaling bytes to floats.
        case gather
        /// The forward pass's matrix products (with their fused bias).
        case forwardProducts
        /// The backward pass's matrix products: the kernels' gradients and the inputs'.
        case backwardProducts
        /// Every other part of the layers' forward and backward passes: activations and their
        /// gradients, biases' gradients, batch normalization, dropout, the packing of inactive units.
        case activations
        /// The loss, its gradient, and the accuracy count.
        case loss
        /// The optimizer's update of every parameter.
        case optimizer
        /// Handing a split pass's pieces to the other cores and waiting for them.
        case handOffs
        /// Everything else: the callbacks, the bookkeeping.
        case rest

        /// How the breakdown names it.
        public var name: String {
            switch self {
            case .gather: return "batch gathering"
            case .forwardProducts: return "forward products"
            case .backwardProducts: return "backward products"
            case .activations: return "activations and their gradients"
            case .loss: return "loss"
            case .optimizer: return "optimizer update"
            case .handOffs: return "the threads' hand-offs"
            case .rest: return "the rest"
            }
        }
    }

    private var nanoseconds = [UInt64](repeating: 0, count: Part.allCases.count)
    /// Steps timed, and their whole time.
    public private(set) var steps = 0
    public private(set) var stepNanoseconds: UInt64 = 0
    /// Nanoseconds given to any part so far, and to hand-offs: a part timed around others
    /// (a layer's pass around its products) keeps only what they did not take.
    private var claimed: UInt64 = 0, handOffsClaimed: UInt64 = 0
    /// The thread that trains: parts timed on other threads (the pieces of a split pass) are
    /// inside a part it times.
    private let owner = pthread_self()

    public init() {}

    /// The monotonic clock, in nanoseconds.
    @inline(__always)
    public static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// A part's start: the clock, what the parts had claimed, and the training thread's
    /// hand-offs so far.
    public struct Mark {
        let time: UInt64, claimed: UInt64, handOffsClaimed: UInt64, poolWait: UInt64
    }

    /// A mark, on the training thread; nil on any other.
    @inline(__always)
    public func start() -> Mark? {
        guard pthread_equal(pthread_self(), owner) != 0 else { return nil }
        return Mark(time: Self.now(), claimed: claimed, handOffsClaimed: handOffsClaimed, poolWait: WorkerPool.shared.callerWaitNanoseconds)
    }

    /// Gives `part` the time since `mark` that the parts timed inside it did not take, less the
    /// hand-offs in it, which go to hand-offs.
    @inline(__always)
    public func add(_ part: Part, since mark: Mark?) {
        guard let mark else { return }
        let elapsed = Self.now() &- mark.time
        let nested = claimed &- mark.claimed
        let waits = (WorkerPool.shared.callerWaitNanoseconds &- mark.poolWait) &- (handOffsClaimed &- mark.handOffsClaimed)
        let handOffs = min(waits, elapsed &- min(nested, elapsed))
        let own = elapsed &- min(nested, elapsed) &- handOffs
        nanoseconds[part.rawValue] &+= own
        nanoseconds[Part.handOffs.rawValue] &+= handOffs
        claimed &+= own &+ handOffs
        handOffsClaimed &+= handOffs
    }

    /// Counts one step that took `duration` nanoseconds in all.
    func countStep(_ duration: UInt64) {
        steps += 1
        stepNanoseconds &+= duration
    }

    /// Each part's microseconds a step, the rest being the step's time no part claimed.
    public var microsecondsPerStep: [(part: Part, microseconds: Double)] {
        guard steps > 0 else { return [] }
        let measured = nanoseconds.enumerated().filter { $0.offset != Part.rest.rawValue }.reduce(UInt64(0)) { $0 &+ $1.element }
        var values = nanoseconds
        values[Part.rest.rawValue] = stepNanoseconds &- min(measured, stepNanoseconds)
        return Part.allCases.map { ($0, Double(values[$0.rawValue]) / Double(steps) / 1000) }
    }

    /// Microseconds a step, in all.
    public var stepMicroseconds: Double { steps > 0 ? Double(stepNanoseconds) / Double(steps) / 1000 : 0 }
}
