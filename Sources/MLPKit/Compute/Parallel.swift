import Dispatch
import Foundation

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
