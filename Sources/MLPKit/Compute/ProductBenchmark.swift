import CEngine
import Foundation

/// The matrix products of one training step of a Dense stack, and the rates the engines run
/// them at: what `mlp-bench` reports each model's epoch against.
public struct ProductBenchmark {
    /// One product `c (m, n) = op(a) (m, k) · op(b) (k, n)`.
    public struct Product: Sendable {
        public var transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// Layer widths, input first: [3072, 128, 100] for the baseline.
    public let widths: [Int]
    /// Rows of each product: the batch size.
    public let batch: Int

    public init(widths: [Int], batch: Int) {
        self.widths = widths
        self.batch = batch
    }

    /// The step's products, layer by layer: the forward product, the kernel gradient xᵀ · dz,
    /// and, beyond the first layer, the input gradient dz · kernelᵀ.
    public var products: [Product] {
        var list: [Product] = []
        for (index, (inputs, units)) in zip(widths, widths.dropFirst()).enumerated() {
            list.append(Product(transposeA: false, transposeB: false, m: batch, n: units, k: inputs))
            list.append(Product(transposeA: true, transposeB: false, m: inputs, n: units, k: batch))
            if index > 0 { list.append(Product(transposeA: false, transposeB: true, m: batch, n: inputs, k: units)) }
        }
        return list
    }

    /// Floating-point operations of one step's products.
    public var flops: Double { products.reduce(0) { $0 + $1.flops } }

    /// What a measurement found: seconds per step (the fastest of its groups) and the oneDNN
    /// implementations that ran.
    public struct Rate: Sendable {
        public var seconds: Double
        public var implementations: [String]
    }

    /// oneDNN's own rate: each product a matmul primitive over the whole shape, run on
    /// oneDNN's OpenMP threads, `threads` of them. Nil where oneDNN cannot make the products
    /// (bfloat16 on a CPU without AVX-512).
    ///
    /// - Parameters:
    ///   - bfloat16: bfloat16 operands with float32 sums, as mixed_bfloat16 runs them.
    ///   - repeats: steps per timed group; the fastest of 5 groups counts.
    public func oneDNNRate(threads: Int, bfloat16: Bool, repeats: Int) -> Rate? {
        var made: [(OpaquePointer, UnsafeMutableRawPointer, UnsafeMutableRawPointer, UnsafeMutablePointer<Float>)] = []
        defer {
            for (product, a, b, c) in made {
                mlp_product_destroy(product)
                a.deallocate()
                b.deallocate()
                c.deallocate()
            }
        }
        let size = bfloat16 ? 2 : 4
        for p in products {
            var error = [CChar](repeating: 0, count: 256)
            let lda = p.transposeA ? p.m : p.k, ldb = p.transposeB ? p.k : p.n
            guard let product = mlp_product_create(p.transposeA ? 1 : 0, p.transposeB ? 1 : 0, p.m, p.n, p.k, lda, ldb, p.n, 0,
                                                   bfloat16 ? 1 : 0, Int32(threads), &error, error.count)
            else { return nil }
            let a = UnsafeMutableRawPointer.allocate(byteCount: p.m * p.k * size, alignment: 64)
            let b = UnsafeMutableRawPointer.allocate(byteCount: p.k * p.n * size, alignment: 64)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: p.m * p.n)
            // Small nonzero values (0x3c00 is 2^-7 in bfloat16; 0x3c003c00 about 0.0078 as float32).
            a.initializeMemory(as: UInt16.self, repeating: 0x3c00, count: p.m * p.k * size / 2)
            b.initializeMemory(as: UInt16.self, repeating: 0x3c00, count: p.k * p.n * size / 2)
            made.append((product, a, b, c))
        }
        let seconds = Self.fastest(repeats: repeats) {
            for (product, a, b, c) in made { _ = mlp_product_run(product, a, b, c, nil, Int32(threads)) }
        }
        return Rate(seconds: seconds, implementations: Set(made.map { String(cString: mlp_product_implementation($0.0)) }).sorted())
    }

    /// The rate the training loop gets: the same products through `MatrixProducts` on
    /// `engine`, split over `threads` cores as a Dense layer splits them (every product
    /// computed, float32).
    public func trainingRate(engine: MatrixEngine, threads: Int, repeats: Int) -> Rate {
        let matrices = MatrixProducts(engine: engine)
        let buffers = products.map { p in (FloatBuffer(count: p.m * p.k), FloatBuffer(count: p.k * p.n), FloatBuffer(count: p.m * p.n)) }
        for (a, b, _) in buffers {
            a.fill(0.0078)
            b.fill(0.0078)
        }
        let seconds = Self.fastest(repeats: repeats) {
            for (p, (a, b, c)) in zip(products, buffers) {
                matrices.multiply(transposeA: p.transposeA, transposeB: p.transposeB, m: p.m, n: p.n, k: p.k,
                                  a: a.pointer, lda: p.transposeA ? p.m : p.k, b: b.pointer, ldb: p.transposeB ? p.k : p.n,
                                  c: c.pointer, ldc: p.n, threads: threads)
            }
        }
        return Rate(seconds: seconds, implementations: matrices.implementations.sorted())
    }

    /// The fastest of 5 groups of `repeats` calls, after 20 to warm up.
    static func fastest(repeats: Int, _ step: () -> Void) -> Double {
        for _ in 0..<20 { step() }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repeats { step() }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats))
        }
        return best
    }
}
