import CBLAS

/// Row-major single-precision matrix product through OpenBLAS:
/// `c = alpha * op(a) * op(b) + beta * c`, where op(a) is (m, k) and op(b) is (k, n).
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
    cblas_sgemm(
        CblasRowMajor,
        transposeA ? CblasTrans : CblasNoTrans,
        transposeB ? CblasTrans : CblasNoTrans,
        blasint(m), blasint(n), blasint(k),
        alpha, a, blasint(lda), b, blasint(ldb),
        beta, c, blasint(ldc))
}

/// The number of threads OpenBLAS uses for one product.
public var blasThreads: Int {
    get { Int(openblas_get_num_threads()) }
    set { openblas_set_num_threads(Int32(newValue)) }
}

/// Flushes denormal floats to zero on the calling thread (see the C shim for why).
public func flushDenormalsToZero() { mlp_flush_denormals_to_zero() }
