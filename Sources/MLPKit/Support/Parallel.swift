import Dispatch
import Foundation
#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Runs `body` over `0..<count` in contiguous chunks, spread over the cores when the work is
/// large enough to repay the hand-off, and on the calling thread otherwise.
@inline(__always)
func parallelChunks(_ count: Int, threads: Int, minimumChunk: Int = 1 << 17, _ body: (Range<Int>) -> Void) {
    // Chunk edges on multiples of 16 keep vector loops aligned within each chunk.
    parallelRanges(count, pieces: min(threads, count / minimumChunk), alignment: 16, body)
}

/// Splits `0..<count` into `pieces` contiguous ranges whose edges are multiples of
/// `alignment` and runs them on the worker pool, or runs the whole range on the calling
/// thread when there is one piece or the pool is busy.
@inline(__always)
func parallelRanges(_ count: Int, pieces: Int, alignment: Int, _ body: (Range<Int>) -> Void) {
    guard pieces > 1 else { return body(0..<count) }
    let size = ((count + pieces - 1) / pieces + alignment - 1) / alignment * alignment
    let split = WorkerPool.shared.run(pieces: pieces) { index in
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
