import Foundation
import Testing
@testable import MLPKit
import Synchronization

/// oneDNN's products against OpenBLAS's, at a training step's shapes, split over the worker
/// pool's threads as training splits them, while another thread runs products of its own.
@Suite struct MatrixEngineTests {
    /// A (rows, columns) matrix of uniform values in [-0.5, 0.5).
    static func matrix(_ rows: Int, _ columns: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(rows * columns)).map { _ in generator.nextUnitFloat() - 0.5 }
    }

    /// c = op(a) · op(b) on `engine`, split over two threads.
    static func product(_ engine: MatrixEngine, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                        a: [Float], b: [Float]) -> [Float] {
        var c = [Float](repeating: .nan, count: m * n)
        let products = MatrixProducts(engine: engine)
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                c.withUnsafeMutableBufferPointer { c in
                    products.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                      a: a.baseAddress!, lda: transposeA ? m : k, b: b.baseAddress!, ldb: transposeB ? k : n,
                                      c: c.baseAddress!, ldc: n, threads: 2)
                }
            }
        }
        return c
    }

    /// The forward product x · kernel, the kernel gradient xᵀ · dz and the input gradient
    /// dz · kernelᵀ of a 3072→512 layer at batch 128 equal OpenBLAS's to float32's rounding,
    /// each run several times on oneDNN: first split over the worker pool's two threads (the
    /// two pieces run one primitive at once), then while another thread runs products of its
    /// own. Neither may share oneDNN's scratch memory with the other.
    @Test func concurrentProductsEqualOpenBLAS() async throws {
        let rows = 128, inputs = 3072, units = 512
        let x = Self.matrix(rows, inputs, seed: 1), kernel = Self.matrix(inputs, units, seed: 2)
        let dz = Self.matrix(rows, units, seed: 3)
        let cases: [(name: String, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float])] = [
            ("x · kernel", false, false, rows, units, inputs, x, kernel),
            ("xᵀ · dz", true, false, inputs, units, rows, x, dz),
            ("dz · kernelᵀ", false, true, rows, inputs, units, dz, kernel),
        ]
        func compare(_ setting: String) {
            for item in cases {
                let expected = Self.product(.openBLAS, transposeA: item.transposeA, transposeB: item.transposeB,
                                            m: item.m, n: item.n, k: item.k, a: item.a, b: item.b)
                for run in 0..<5 {
                    let ours = Self.product(.oneDNN, transposeA: item.transposeA, transposeB: item.transposeB,
                                            m: item.m, n: item.n, k: item.k, a: item.a, b: item.b)
                    // Sums of k products of values below 0.5 in size: float32 rounding stays far below 1e-3.
                    let difference = maxDifference(ours, expected)
                    #expect(difference < 1e-3, "\(setting), \(item.name), run \(run): differs by \(difference)")
                }
            }
        }
        compare("split over the pool")

        final class Flag: Sendable { let stop = Atomic<Bool>(false) }
        let flag = Flag()
        let other = Task.detached {
            let a = Self.matrix(200, 700, seed: 4), b = Self.matrix(700, 300, seed: 5)
            while !flag.stop.load(ordering: .relaxed) {
                _ = Self.product(.oneDNN, transposeA: false, transposeB: false, m: 200, n: 300, k: 700, a: a, b: b)
            }
        }
        compare("beside another thread's products")
        flag.stop.store(true, ordering: .relaxed)
        await other.value
    }
}
