import CBLAS
import Foundation
import Synchronization

/// OpenBLAS's own threading is switched off: matrix products are split into pieces, each one
/// single-threaded OpenBLAS call on its own core. On small-batch products OpenBLAS's worker
/// threads scale poorly (131 GFLOP/s on two cores where two single-threaded halves give 190)
/// and spin-yield between calls, competing with the element-wise work.
enum OpenBLAS {
    private static let configured: Void = { openblas_set_num_threads(1) }()

    /// Switches OpenBLAS to one thread per call; called before any product.
    @inline(__always) static func configure() { _ = configured }
}

/// Row-major single-precision matrix product through OpenBLAS:
/// `c = alpha * op(a) * op(b) + beta * c`, where op(a) is (m, k) and op(b) is (k, n).
///
/// Large products are split by rows of `c` over `threads` cores.
///
/// - Parameters:
///   - threads: cores to split the product over.
///   - transposeA: read `a` as stored (k, m) and use its transpose.
///   - transposeB: read `b` as stored (n, k) and use its transpose.
@inline(__always)
func sgemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int
) {
    OpenBLAS.configure()
    func product(_ rows: Range<Int>) {
        // Rows of op(a): rows of a, or columns of a when it is transposed.
        let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(rows.count), blasint(n), blasint(k), alpha, aStart, blasint(lda), b, blasint(ldb),
            beta, c + rows.lowerBound * ldc, blasint(ldc))
    }
    // Below about 2 MFLOP the hand-off to the spinning worker costs more than the second core gives.
    guard threads > 1, 2 * m * n * k >= 2_000_000 else { return product(0..<m) }
    if m <= 256, k >= 8 * m, !transposeA, !transposeB {
        // A short, deep product (a batch through a wide first layer): split the depth, so that
        // each core packs only its share of both operands, then add the partial sums.
        if splitDepth(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
                      pieces: threads) { return }
        return product(0..<m)
    }
    parallelRanges(m, pieces: min(threads, m / 16), alignment: 8, product)
}

/// Partial sums of `splitDepth` beyond the first piece, sized once and reused by one caller
/// at a time.
nonisolated(unsafe) private var depthScratch = FloatBuffer(count: 0)
private let depthScratchInUse = Atomic<Bool>(false)

/// `c = alpha · a · b + beta · c` with the k dimension split over the cores; false, having
/// done nothing, when another thread holds the scratch buffer or the worker pool.
private func splitDepth(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                        pieces: Int) -> Bool {
    guard depthScratchInUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
    defer { depthScratchInUse.store(false, ordering: .releasing) }
    let depth = ((k + pieces - 1) / pieces + 15) & ~15
    depthScratch.reserve((pieces - 1) * m * n)
    let scratch = depthScratch.pointer
    let split = WorkerPool.shared.run(pieces: pieces) { piece in
        let start = piece * depth, count = max(min(depth, k - start), 0)
        let target = piece == 0 ? c : scratch + (piece - 1) * m * n
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(m), blasint(n), blasint(count), alpha,
                    a + start, blasint(lda), b + start * ldb, blasint(ldb), piece == 0 ? beta : 0, target,
                    blasint(piece == 0 ? ldc : n))
    }
    guard split else { return false }
    for piece in 1..<pieces {
        let partial = scratch + (piece - 1) * m * n
        for row in 0..<m {
            let out = c + row * ldc, add = partial + row * n
            for j in 0..<n { out[j] += add[j] }
        }
    }
    return true
}

/// Flushes denormal floats to zero on the calling thread (see the C shim for why), for the
/// worker pool's own threads.
func flushDenormalsToZero() { _ = mlp_flush_denormals_to_zero() }

/// Runs `body` with denormal floats flushed to zero on the calling thread, then puts the
/// thread's floating-point control back as it was.
func withDenormalsFlushedToZero<T>(_ body: () throws -> T) rethrows -> T {
    let previous = flushDenormalsKeepingControl()
    defer { restoreFloatControl(previous) }
    return try body()
}

/// Flushes denormals to zero on the calling thread and returns its previous control state.
func flushDenormalsKeepingControl() -> UInt32 { mlp_flush_denormals_to_zero() }

/// Puts back a control state that `flushDenormalsKeepingControl` returned.
func restoreFloatControl(_ state: UInt32) { mlp_restore_float_control(state) }

/// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake".
public var openBLASVersion: String {
    openblas_get_config().map { String(cString: $0).trimmingCharacters(in: .whitespaces) } ?? "?"
}

/// The two LAPACK routines (OpenBLAS ships them) the Gaussian process of the Bayesian sampler
/// needs, on column-major double matrices.
enum LAPACK {
    /// The lower Cholesky factor of the symmetric positive definite n × n `matrix` (`dpotrf`);
    /// nil when it is not positive definite.
    static func choleskyFactor(_ matrix: [Double], n: Int) -> [Double]? {
        var a = matrix, info: Int32 = 0, size = Int32(n)
        let uplo: CChar = 0x4C  // "L"
        withUnsafePointer(to: uplo) { dpotrf_($0, &size, &a, &size, &info, 1) }
        return info == 0 ? a : nil
    }

    /// A⁻¹B for `columns` right-hand sides, from A's lower Cholesky `factor` (`dpotrs`); B is
    /// column-major with n rows.
    static func choleskySolve(factor: [Double], n: Int, _ b: [Double], columns: Int) -> [Double]? {
        var x = b, info: Int32 = 0, size = Int32(n), count = Int32(columns)
        let uplo: CChar = 0x4C
        withUnsafePointer(to: uplo) { dpotrs_($0, &size, &count, factor, &size, &x, &size, &info, 1) }
        return info == 0 ? x : nil
    }
}
