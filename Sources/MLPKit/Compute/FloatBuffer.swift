/// A fixed block of numbers owned by one layer or optimizer slot: `FloatBuffer` for float32
/// values, `BFloat16Buffer` for bfloat16 ones (as their 16-bit patterns).
///
/// Numeric kernels work on raw pointers so that the batch loop never allocates, copies on write
/// or checks exclusivity; the buffer is sized once, before training starts.
public final class Buffer<Element: BitwiseCopyable & ExpressibleByIntegerLiteral>: @unchecked Sendable {
    /// The values; valid until the next `reserve` that grows the buffer.
    public private(set) var pointer: UnsafeMutablePointer<Element>
    public private(set) var count: Int

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Grows the buffer to hold at least `count` values; contents are zeroed when it grows.
    public func reserve(_ count: Int) {
        guard count > self.count else { return }
        pointer.deallocate()
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        self.count = count
    }
}

public typealias FloatBuffer = Buffer<Float>
public typealias BFloat16Buffer = Buffer<UInt16>

extension Buffer where Element == Float {
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// Sets every value to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// A copy of the values.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// How many values are NaN or infinite.
    public var nonFiniteCount: Int {
        var n = 0
        for i in 0..<count where !pointer[i].isFinite { n += 1 }
        return n
    }

    /// Copies `values` in; their count must equal the buffer's.
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "assign: \(values.count) values into a buffer of \(count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}

extension Buffer where Element == UInt16 {
    /// Rounds `count` float32 values into the buffer (see `convertToBFloat16`).
    public func round(_ source: UnsafePointer<Float>, count: Int) {
        convertToBFloat16(source, pointer, count: count)
    }
}
