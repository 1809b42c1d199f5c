import CEngine
import Foundation
import Synchronization

/// The library that multiplies a model's matrices.
public enum MatrixEngine: String, CaseIterable, Sendable {
    /// oneDNN's matmul primitives (the bias added by the forward product itself), and its
    /// `dnnl_sgemm` where a product's shape changes from step to step. On CPUs without AVX-512,
    /// float32 products whose left operand is transposed (the kernel gradient, xᵀ · dz) go to
    /// OpenBLAS: oneDNN's AVX2 kernels run them at half OpenBLAS's rate (40 against 78 GFLOP/s
    /// at 3072×128×128 on one core), and match or beat it on the others.
    case oneDNN = "onednn"
    /// OpenBLAS's `cblas_sgemm`, float32 only.
    case openBLAS = "openblas"

    /// oneDNN: on AVX-512 CPUs it runs the training step's products at about twice OpenBLAS's
    /// rate (OpenBLAS 0.3.21 runs AVX2 kernels there), and on AVX2 CPUs, with the transposed
    /// products left to OpenBLAS, a baseline epoch takes a tenth less than OpenBLAS's alone.
    public static let preferred: MatrixEngine = .oneDNN

    /// Whether oneDNN's kernels on this CPU use AVX-512 (its brgemm kernels) rather than AVX2.
    static let hasAVX512Kernels = instructionSet.hasPrefix("avx512")

    /// The instruction set of oneDNN's kernels on this CPU: "avx2", "avx512_core_bf16", ...
    public static let instructionSet = String(cString: mlp_engine_isa())

    /// Whether oneDNN runs bfloat16 products on this CPU (it needs AVX-512).
    public static let supportsBFloat16 = mlp_engine_has_bf16() != 0

    /// Whether oneDNN's kernels here have VNNI (its bfloat16 and AMX kernels imply it), so that
    /// its uint8 · int8 products sum exactly.
    public static let hasVNNI = ["vnni", "bf16", "amx"].contains { instructionSet.contains($0) }

    /// Whether the CPU multiplies bfloat16 in hardware (AVX512_BF16 or AMX); elsewhere oneDNN
    /// emulates the bfloat16 products with float32 instructions.
    public static let hasNativeBFloat16 = instructionSet.contains("bf16") || instructionSet.contains("amx")

    /// The speed of mixed_bfloat16's products against float32's on this CPU, at `widths` (a
    /// Dense stack's, input first), both on oneDNN's threads; nil where there are no bfloat16
    /// products. Measured in a fraction of a second.
    public static func bfloat16SpeedRatio(widths: [Int], threads: Int) -> Double? {
        let products = ProductBenchmark(widths: widths, batch: 128)
        guard let half = products.oneDNNRate(threads: threads, bfloat16: true, repeats: 5),
              let single = products.oneDNNRate(threads: threads, bfloat16: false, repeats: 5) else { return nil }
        return single.seconds / half.seconds
    }

    /// oneDNN's version, e.g. "2.6.3".
    public static let oneDNNVersion = String(cString: mlp_engine_version())

    /// Why this engine cannot train a mixed_bfloat16 model on this CPU, or nil when it can.
    /// OpenBLAS can, by widening the operands to float32 (slower than float32 itself; for
    /// checking results where oneDNN has no bfloat16 kernels).
    public var bfloat16Problem: String? {
        guard self == .oneDNN, !Self.supportsBFloat16 else { return nil }
        return "oneDNN \(Self.oneDNNVersion) has no bfloat16 matrix products on this CPU (its kernels here: "
            + "\(Self.instructionSet); bfloat16 needs AVX-512); train in float32"
    }

    /// What the engine is on this machine, e.g. "oneDNN 2.6.3 (avx512_core_bf16)".
    public var description: String {
        switch self {
        case .oneDNN: return "oneDNN \(Self.oneDNNVersion) (\(Self.instructionSet))"
        case .openBLAS: return openBLASVersion
        }
    }
}

/// One layer's matrix products on one engine: `c = op(a) · op(b)`, row-major, split over the
/// cores by rows of `c`. For oneDNN it keeps each shape's primitive, made on first use and
/// reused for every later batch of that shape.
///
/// Products may run from several threads at once (the pieces of one split product); the
/// primitives are shared under a lock and executed without it.
final class MatrixProducts: @unchecked Sendable {
    /// The library the products run through.
    public let engine: MatrixEngine
    private struct Shape: Hashable {
        var transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
        var bias: Bool, bfloat16: Bool
    }
    private let primitives = Mutex<[Shape: OpaquePointer]>([:])
    // bfloat16 operands widened to float32, where oneDNN cannot multiply them (see `multiply`).
    private let widenedA = FloatBuffer(count: 0), widenedB = FloatBuffer(count: 0)

    /// Where training steps' time goes, when it is being measured.
    var profile: StepProfile?

    public init(engine: MatrixEngine) { self.engine = engine }

    deinit {
        primitives.withLock { cache in
            for primitive in cache.values { mlp_product_destroy(primitive) }
        }
    }

    /// Whether `multiply` can add a bias in the product itself.
    ///
    /// ReLU is not fused, though oneDNN offers it as a post-op: its ReLU maps NaN to 0, where
    /// Keras's keeps NaN, and a NaN must reach the loss for a diverging run to be caught at its
    /// step. Fused, it measured no faster: the activation pass is a few microseconds a batch.
    public var fusesBias: Bool { engine == .oneDNN }

    /// The oneDNN implementations of the products made so far, e.g. ["brg:avx512_core"].
    public var implementations: Set<String> {
        primitives.withLock { Set($0.values.map { String(cString: mlp_product_implementation($0)) }) }
    }

    /// `c (m, n) = op(a) · op(b) [+ bias]`.
    ///
    /// - Parameters:
    ///   - transposeA: `a` is stored (k, m) with row stride `lda`; otherwise (m, k).
    ///   - transposeB: `b` is stored (n, k) with row stride `ldb`; otherwise (k, n).
    ///   - a: float32 values, or bfloat16 ones with `bfloat16`.
    ///   - bias: one value per column of `c`; only where `fusesBias`.
    ///   - bfloat16: `a` and `b` hold bfloat16 values; the sums accumulate in float32. On
    ///     OpenBLAS, or where oneDNN has no bfloat16 kernels, the operands are widened to
    ///     float32 (exactly) and multiplied in float32: the same products and sums, up to the
    ///     order of the float32 additions, at float32's speed less the widening. A widened
    ///     product runs one at a time per `MatrixProducts` (it uses the object's scratch).
    ///   - reusedShape: the shape recurs every batch, so that a primitive repays its making;
    ///     false for shapes that change from batch to batch (the packed backward products).
    ///   - threads: cores to split the product over.
    public func multiply(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>? = nil, bfloat16: Bool = false, reusedShape: Bool = true,
        threads: Int
    ) {
        // An empty product: oneDNN's kernels divide by its sizes.
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            if let bias { addRows(bias, to: c, rows: m, columns: n, stride: ldc) }
            return
        }
        let mark = profile?.start()
        defer { profile?.add(transposeA || transposeB ? .backwardProducts : .forwardProducts, since: mark) }
        if bfloat16, engine == .openBLAS || !MatrixEngine.supportsBFloat16 {
            let aCount = transposeA ? k * lda : m * lda, bCount = transposeB ? n * ldb : k * ldb
            widenedA.reserve(aCount)
            widenedB.reserve(bCount)
            convertFromBFloat16(a.assumingMemoryBound(to: UInt16.self), widenedA.pointer, count: aCount)
            convertFromBFloat16(b.assumingMemoryBound(to: UInt16.self), widenedB.pointer, count: bCount)
            sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: widenedA.pointer, lda: lda,
                  b: widenedB.pointer, ldb: ldb, c: c, ldc: ldc, threads: threads)
            if let bias { addRows(bias, to: c, rows: m, columns: n, stride: ldc) }
            return
        }
        guard engine == .oneDNN, !(transposeA && !bfloat16 && !MatrixEngine.hasAVX512Kernels) else {
            precondition(bias == nil && !bfloat16, "OpenBLAS's products take no bias or bfloat16")
            return sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a: a.assumingMemoryBound(to: Float.self), lda: lda, b: b.assumingMemoryBound(to: Float.self),
                         ldb: ldb, c: c, ldc: ldc, threads: threads)
        }
        precondition(reusedShape || (bias == nil && !bfloat16), "a changing shape runs through dnnl_sgemm, float32 only")
        let elementSize = bfloat16 ? 2 : 4
        func piece(_ rows: Range<Int>) {
            guard !rows.isEmpty else { return }
            // Rows of op(a): rows of a, or columns of a when it is transposed.
            let aStart = a + (transposeA ? rows.lowerBound : rows.lowerBound * lda) * elementSize
            let cStart = c + rows.lowerBound * ldc
            if !reusedShape {
                let status = mlp_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, n, k,
                                       aStart.assumingMemoryBound(to: Float.self), lda, b.assumingMemoryBound(to: Float.self),
                                       ldb, cStart, ldc)
                precondition(status == 0, "dnnl_sgemm failed with status \(status)")
                return
            }
            let shape = Shape(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, lda: lda,
                              ldb: ldb, ldc: ldc, bias: bias != nil, bfloat16: bfloat16)
            let status = mlp_product_run(primitive(shape), aStart, b, cStart, bias, 1)
            precondition(status == 0, "oneDNN's product failed with status \(status)")
        }
        // Below about 2 MFLOP the hand-off to the spinning worker costs more than the second core gives.
        guard threads > 1, 2 * m * n * k >= 16_000_000 else { return piece(0..<m) }
        parallelRanges(m, pieces: min(threads, m / 16), alignment: 8, piece)
    }

    /// c[r][j] += bias[j].
    private func addRows(_ bias: UnsafePointer<Float>, to c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
        for r in 0..<rows {
            let row = c + r * stride
            for j in 0..<columns { row[j] += bias[j] }
        }
    }

    /// The primitive for `shape`, made on first use.
    private func primitive(_ shape: Shape) -> OpaquePointer {
        primitives.withLock { cache in
            if let made = cache[shape] { return made }
            var error = [CChar](repeating: 0, count: 256)
            guard let made = mlp_product_create(
                shape.transposeA ? 1 : 0, shape.transposeB ? 1 : 0, shape.m, shape.n, shape.k, shape.lda, shape.ldb,
                shape.ldc, shape.bias ? 1 : 0, shape.bfloat16 ? 1 : 0, 1, &error, error.count)
            else {
                // Float32 products exist on every CPU oneDNN runs on; bfloat16 support is checked
                // before a model is set to it (see `MatrixEngine.supportsBFloat16`).
                preconditionFailure(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cache[shape] = made
            return made
        }
    }
}

/// c (m, n) = (a − aZero) · b + columnOffsets, a uint8 (m, k), b int8 (k, n), c int32, summed
/// exactly: by oneDNN's integer product (`dnnl_gemm_u8s8s32`) where its kernels have VNNI, by
/// plain integer loops elsewhere (without VNNI oneDNN pairs products in 16 bits, which
/// saturate). Returns 0 or oneDNN's status.
func integerProduct(m: Int, n: Int, k: Int, a: UnsafePointer<UInt8>, aZero: UInt8, b: UnsafePointer<Int8>,
                    c: UnsafeMutablePointer<Int32>, columnOffsets: UnsafePointer<Int32>) -> Int32 {
    guard MatrixEngine.hasVNNI else {
        mlp_gemm_u8s8s32_exact(m, n, k, a, k, aZero, b, n, c, n, columnOffsets)
        return 0
    }
    return mlp_gemm_u8s8s32(m, n, k, a, k, aZero, b, n, c, n, columnOffsets)
}

/// Rounds float32 values to bfloat16 (to nearest, ties to even, as Keras's casts do).
func convertToBFloat16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>, count: Int) {
    mlp_f32_to_bf16(source, destination, count)
}

/// Widens bfloat16 values to float32 (exactly).
func convertFromBFloat16(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>, count: Int) {
    mlp_bf16_to_f32(source, destination, count)
}
