import Dispatch
import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Runs `body` over `0..<count` in contiguous chunks, spread over the cores when the work is
/// large enough to repay the hand-off, and on the calling thread otherwise.
@inline(__always)
func parallelChunks(_ count: Int, minimumChunk: Int = 1 << 17, _ body: (Range<Int>) -> Void) {
    let chunks = min(Compute.threads, count / minimumChunk)
    guard chunks > 1 else { return body(0..<count) }
    // Chunk edges on multiples of 16 keep vector loops aligned within each chunk.
    let size = ((count + chunks - 1) / chunks + 15) & ~15
    let split = WorkerPool.shared.run(pieces: chunks) { index in
        let start = index * size
        if start < count { body(start..<min(start + size, count)) }
    }
    if !split { body(0..<count) }
}

/// SIMD4 loads and stores on unaligned float pointers.
extension UnsafePointer where Pointee == Float {
    @inline(__always) func vector4(_ i: Int) -> SIMD4<Float> { UnsafeRawPointer(self + i).loadUnaligned(as: SIMD4<Float>.self) }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func vector4(_ i: Int) -> SIMD4<Float> { UnsafeRawPointer(self + i).loadUnaligned(as: SIMD4<Float>.self) }
    @inline(__always) func store4(_ v: SIMD4<Float>, _ i: Int) { UnsafeMutableRawPointer(self + i).storeBytes(of: v, as: SIMD4<Float>.self) }
}

/// Four square roots in one instruction. Swift's `squareRoot()` goes through C's `sqrtf`, whose
/// errno check keeps the compiler from vectorising it; SSE's `sqrtps` is exact (IEEE) too.
@inline(__always)
func squareRoot4(_ v: SIMD4<Float>) -> SIMD4<Float> {
    #if arch(x86_64)
    return _mm_sqrt_ps(v)
    #else
    return SIMD4(v[0].squareRoot(), v[1].squareRoot(), v[2].squareRoot(), v[3].squareRoot())
    #endif
}
