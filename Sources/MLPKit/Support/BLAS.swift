import CBLAS
import Foundation

/// How many cores the numeric work uses: matrix products are split into that many pieces,
/// each one single-threaded OpenBLAS call on its own core, and element-wise passes over large
/// buffers are split the same way.
///
/// OpenBLAS's own threading is switched off: on small-batch products its worker threads scale
/// poorly (131 GFLOP/s on two cores where two single-threaded halves give 190) and spin-yield
/// between calls, competing with the element-wise work.
public enum Compute {
    nonisolated(unsafe) private static var _threads = ProcessInfo.processInfo.activeProcessorCount
    private static let configured: Void = { openblas_set_num_threads(1) }()

    /// The number of cores to use (at least 1).
    public static var threads: Int {
        get { _threads }
        set { _threads = max(1, newValue) }
    }

    /// Switches OpenBLAS to one thread per call; called before any product.
    @inline(__always) static func configure() { _ = configured }
}

/// Row-major single-precision matrix product through OpenBLAS:
/// `c = alpha * op(a) * op(b) + beta * c`, where op(a) is (m, k) and op(b) is (k, n).
///
/// Large products are split by rows of `c` over `Compute.threads` cores.
///
/// - Parameters:
///   - transposeA: read `a` as stored (k, m) and use its transpose.
///   - transposeB: read `b` as stored (n, k) and use its transpose.
@inline(__always)
public func sgemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    Compute.configure()
    func product(_ rows: Range<Int>) {
        // Rows of op(a): rows of a, or columns of a when it is transposed.
        let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(rows.count), blasint(n), blasint(k), alpha, aStart, blasint(lda), b, blasint(ldb),
            beta, c + rows.lowerBound * ldc, blasint(ldc))
    }
    let pieces = min(Compute.threads, m / 16)
    // Below about 20 MFLOP the hand-off costs more than the second core gives.
    guard pieces > 1, 2 * m * n * k >= 20_000_000 else { return product(0..<m) }
    let rows = ((m + pieces - 1) / pieces + 7) & ~7
    WorkerPool.shared.run(pieces: pieces) { piece in
        let start = piece * rows
        if start < m { product(start..<min(start + rows, m)) }
    }
}

/// Flushes denormal floats to zero on the calling thread (see the C shim for why).
public func flushDenormalsToZero() { mlp_flush_denormals_to_zero() }

/// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake".
public var openBLASVersion: String {
    openblas_get_config().map { String(cString: $0).trimmingCharacters(in: .whitespaces) } ?? "?"
}
