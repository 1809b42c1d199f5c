import CKernels

/// The training loop's element-wise passes in C (CKernels: AVX2 where the CPU has it, chosen at
/// run time; the same floats either way), and its stdio helper.
enum Kernels {
    /// `destination[i] = source[i] / 255`, correctly rounded, for `count` bytes.
    @inline(__always)
    static func bytesToUnit(_ source: UnsafePointer<UInt8>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
        mlp_bytes_to_unit(source, destination, count)
    }

    /// Keras's RMSprop step without momentum or centering, on `count` values:
    /// `v = rho·v + (1 − rho)·g²; w −= lr·g / sqrt(v + epsilon)`.
    @inline(__always)
    static func rmspropStep(_ w: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, count: Int,
                            learningRate: Float, rho: Float, epsilon: Float) {
        mlp_rmsprop_step(w, v, g, count, learningRate, rho, epsilon)
    }

    /// Keras's Adam (AdamW with a nonzero `decay`) on `count` values, `alpha` being
    /// `lr·sqrt(1 − beta2^t) / (1 − beta1^t)`.
    @inline(__always)
    static func adamStep(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                         _ g: UnsafePointer<Float>, count: Int, alpha: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float) {
        mlp_adam_step(w, m, v, g, count, alpha, beta1, beta2, epsilon, decay)
    }

    /// y (rows, n) = bias + x (rows, k) · w (k, n), summed as ONNX Runtime's CPU Gemm sums:
    /// blocks of `strideK` inputs, each by fused multiply-adds in order, added to the output.
    static func gemmBlockedFMA(_ x: UnsafePointer<Float>, rows: Int, k: Int, _ w: UnsafePointer<Float>, n: Int,
                               bias: UnsafePointer<Float>?, strideK: Int, _ y: UnsafeMutablePointer<Float>) {
        mlp_gemm_blocked_fma(x, rows, k, w, n, bias, strideK, y)
    }
}

/// Makes standard output line-buffered, so that a log in a file or a pipe shows each epoch as
/// it ends.
public func lineBufferStandardOutput() { mlp_line_buffer_stdout() }
