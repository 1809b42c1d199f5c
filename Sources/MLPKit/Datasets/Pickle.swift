/// A value of the pickle subset that CIFAR's Python files use.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    /// Bytes (Python 2 `str`, Python 3 `bytes`).
    case bytes([UInt8])
    /// A byte string of `count` bytes that went to the reader's `largeBytes` consumer instead
    /// of memory.
    case streamed(count: Int)
    case string(String)
    case list([PickleValue])
    case tuple([PickleValue])
    case dict([(key: PickleValue, value: PickleValue)])
    case global(module: String, name: String)
    /// `numpy.dtype(descr)`, e.g. "u1".
    case dtype(String)
    /// A numpy array: its shape, dtype descr and raw bytes (`.bytes` or `.streamed`).
    case array(shape: [Int], dtype: String, data: PickleValue)
    /// `numpy.ndarray` between `_reconstruct` and its `BUILD`.
    case emptyArray
}

/// A small, strict reader of pickle protocols 2 to 4, limited to what numpy arrays, dicts,
/// lists and strings need: the format of CIFAR's files, written by Python 2's cPickle.
/// Any other opcode or global is refused with its name and offset.
///
/// It reads front to back from a bounded reader, so that a length in the pickle is checked
/// against the bytes that are there before anything is allocated for it. Byte strings of at
/// least `largeBytesThreshold` go to `largeBytes`, which reads them straight from the stream
/// (CIFAR's 150 MB of pixels need never sit in memory twice).
struct PickleReader {
    /// A consumer of one large byte string: it must read exactly `count` bytes with `read`.
    public typealias LargeBytesConsumer = (_ count: Int, _ read: (UnsafeMutableRawBufferPointer) throws -> Void) throws -> Void

    /// Byte strings of at least this many bytes go to the `largeBytes` consumer, when one is given.
    public static let largeBytesThreshold = 1 << 16

    private let source: BoundedReader
    private let largeBytes: LargeBytesConsumer?
    private var path: String { source.path }
    // Bytes read ahead from `source`; lookahead[lookaheadPosition...] are not yet consumed.
    private var lookahead: [UInt8] = []
    private var lookaheadPosition = 0
    /// Bytes of the pickle consumed so far, for error messages.
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// - Parameters:
    ///   - largeBytes: reads byte strings of at least `largeBytesThreshold` bytes from the
    ///     stream; without it they are read into memory like the others.
    public init(_ source: BoundedReader, largeBytes: LargeBytesConsumer? = nil) {
        self.source = source
        self.largeBytes = largeBytes
    }

    private func fail(_ problem: String) -> MLPError {
        .format(path: path, problem: "pickle: \(problem) at byte \(position)")
    }

    /// Runs the pickle program to its STOP and returns the value it built.
    public mutating func read() throws -> PickleValue {
        while true {
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()  // PROTO
            case 0x95: _ = try take(8)  // FRAME: frames are contiguous here
            case 0x2E:  // STOP
                guard let value = stack.popLast() else { throw fail("STOP with an empty stack") }
                return value
            default:
                if try !push(opcode) { try combine(opcode) }
            }
        }
    }

    /// Runs an opcode that pushes a value (a constant, a number, a string, a memo's) or marks
    /// the stack; false for any other.
    private mutating func push(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x28: marks.append(stack.count)  // MARK
        case 0x7D: stack.append(.dict([]))  // EMPTY_DICT
        case 0x5D: stack.append(.list([]))  // EMPTY_LIST
        case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
        case 0x4E: stack.append(.none)
        case 0x88: stack.append(.bool(true))
        case 0x89: stack.append(.bool(false))
        case 0x4B: stack.append(.int(Int(try byte())))  // BININT1
        case 0x4D: stack.append(.int(try integer(2, signed: false)))  // BININT2
        case 0x4A: stack.append(.int(try integer(4, signed: true)))  // BININT
        case 0x8A: stack.append(.int(try integer(Int(try byte()), signed: true)))  // LONG1
        case 0x47: stack.append(.float(Double(bitPattern: UInt64(truncatingIfNeeded: try integer(8, signed: false, bigEndian: true)))))
        case 0x55, 0x43: stack.append(.bytes(try take(Int(try byte()))))  // SHORT_BINSTRING, SHORT_BINBYTES
        case 0x54, 0x42: stack.append(try byteString(try integer(4, signed: false)))  // BINSTRING, BINBYTES
        case 0x8E: stack.append(try byteString(try integer(8, signed: false)))  // BINBYTES8
        case 0x8C: stack.append(.string(text(try take(Int(try byte())))))  // SHORT_BINUNICODE
        case 0x58: stack.append(.string(text(try take(try integer(4, signed: false)))))  // BINUNICODE
        case 0x8D: stack.append(.string(text(try take(try integer(8, signed: false)))))  // BINUNICODE8
        case 0x71: memo[Int(try byte())] = try top()  // BINPUT
        case 0x72: memo[try integer(4, signed: false)] = try top()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()  // MEMOIZE
        case 0x68: stack.append(try recall(Int(try byte())))  // BINGET
        case 0x6A: stack.append(try recall(try integer(4, signed: false)))  // LONG_BINGET
        default: return false
        }
        return true
    }

    /// Runs an opcode that builds from what is on the stack: tuples, lists, dicts, globals,
    /// reductions and builds; any other is refused.
    private mutating func combine(_ opcode: UInt8) throws {
        switch opcode {
        case 0x85: try tuple(1)
        case 0x86: try tuple(2)
        case 0x87: try tuple(3)
        case 0x74: stack.append(.tuple(try popMark()))  // TUPLE
        case 0x6C: stack.append(.list(try popMark()))  // LIST
        case 0x64: stack.append(.dict(try pairs(try popMark())))  // DICT
        case 0x61:  // APPEND
            let item = try pop()
            try appendItems([item])
        case 0x65: try appendItems(try popMark())  // APPENDS
        case 0x73:  // SETITEM
            let value = try pop(), key = try pop()
            try setItems([(key, value)])
        case 0x75: try setItems(try pairs(try popMark()))  // SETITEMS
        case 0x63:  // GLOBAL
            let module = try line(), name = try line()
            stack.append(.global(module: module, name: name))
        case 0x93:  // STACK_GLOBAL
            let name = try pop(), module = try pop()
            guard case .string(let n) = name, case .string(let m) = module else { throw fail("STACK_GLOBAL needs two strings") }
            stack.append(.global(module: m, name: n))
        case 0x52:  // REDUCE
            let arguments = try pop(), callable = try pop()
            stack.append(try reduce(callable, arguments))
        case 0x62:  // BUILD
            let state = try pop(), object = try pop()
            stack.append(try build(object, state))
        default:
            throw fail(String(format: "unsupported opcode 0x%02x (this reader knows the numpy, dict, list and string subset)", opcode))
        }
    }

    // MARK: Objects

    private func reduce(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable, case .tuple(let args) = arguments else {
            throw fail("REDUCE of something other than a global")
        }
        switch (module, name) {
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"):
            return .emptyArray
        case ("numpy", "dtype"):
            guard let first = args.first, let descr = stringValue(first) else { throw fail("numpy.dtype without a type string") }
            return .dtype(descr)
        case ("_codecs", "encode"):
            throw fail("bytes pickled by Python 3 at protocol 2 (_codecs.encode) are not supported; "
                + "use the official Python 2 files or pickle protocol 3 or later")
        default:
            throw fail("unsupported global \(module).\(name)")
        }
    }

    private func build(_ object: PickleValue, _ state: PickleValue) throws -> PickleValue {
        switch object {
        case .dtype:
            return object
        case .emptyArray:
            // State: (version, shape, dtype, is_fortran, raw data).
            guard case .tuple(let parts) = state, parts.count == 5, case .tuple(let dims) = parts[1],
                  case .dtype(let dtype) = parts[2]
            else { throw fail("numpy array state is not (version, shape, dtype, fortran, bytes)") }
            let data = parts[4]
            switch data {
            case .bytes, .streamed: break
            default: throw fail("numpy array state is not (version, shape, dtype, fortran, bytes)")
            }
            if case .bool(true) = parts[3] { throw fail("Fortran-ordered numpy arrays are not supported") }
            let shape = try dims.map { dim -> Int in
                guard case .int(let n) = dim, n >= 0 else { throw fail("numpy array shape is not a tuple of sizes") }
                return n
            }
            return .array(shape: shape, dtype: dtype, data: data)
        default:
            throw fail("BUILD of an unsupported object")
        }
    }

    /// Text of a string or bytes value.
    public func stringValue(_ value: PickleValue) -> String? {
        switch value {
        case .string(let s): return s
        case .bytes(let bytes): return text(bytes)
        default: return nil
        }
    }

    /// The value stored under the text key `key` in a dict.
    public func lookup(_ key: String, in value: PickleValue) -> PickleValue? {
        guard case .dict(let items) = value else { return nil }
        return items.first { stringValue($0.key) == key }?.value
    }

    // MARK: Stack

    private mutating func appendItems(_ items: [PickleValue]) throws {
        guard case .list(var list) = try pop() else { throw fail("APPEND to something other than a list") }
        list.append(contentsOf: items)
        stack.append(.list(list))
    }

    private mutating func setItems(_ items: [(key: PickleValue, value: PickleValue)]) throws {
        guard case .dict(var dict) = try pop() else { throw fail("SETITEM on something other than a dict") }
        dict.append(contentsOf: items)
        stack.append(.dict(dict))
    }

    private func pairs(_ flat: [PickleValue]) throws -> [(key: PickleValue, value: PickleValue)] {
        guard flat.count % 2 == 0 else { throw fail("odd number of dict items") }
        return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
    }

    private mutating func tuple(_ n: Int) throws {
        guard stack.count >= n else { throw fail("stack underflow") }
        let items = Array(stack.suffix(n))
        stack.removeLast(n)
        stack.append(.tuple(items))
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast(), mark <= stack.count else { throw fail("MARK missing") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw fail("stack underflow") }
        return value
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last else { throw fail("memo of an empty stack") }
        return value
    }

    private func recall(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw fail("memo entry \(index) missing") }
        return value
    }

    // MARK: Bytes

    /// Bytes not yet consumed: read ahead, and still in the source.
    private var remaining: Int { lookahead.count - lookaheadPosition + source.remaining }

    private mutating func byte() throws -> UInt8 {
        if lookaheadPosition == lookahead.count {
            guard source.remaining > 0 else { throw fail("unexpected end of data (file truncated)") }
            lookahead = try source.read(count: min(source.remaining, 1 << 16))
            lookaheadPosition = 0
        }
        defer {
            lookaheadPosition += 1
            position += 1
        }
        return lookahead[lookaheadPosition]
    }

    /// Fills `buffer` from the lookahead, then from the source.
    private mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        let buffered = min(lookahead.count - lookaheadPosition, buffer.count)
        lookahead.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + lookaheadPosition, byteCount: buffered) }
        lookaheadPosition += buffered
        if buffered < buffer.count { try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[buffered...])) }
        position += buffer.count
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw fail("unexpected end of data (file truncated)") }
        guard count > 0 else { return [] }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// A byte string of `count` bytes: in memory, or through `largeBytes` when it is large.
    private mutating func byteString(_ count: Int) throws -> PickleValue {
        guard let largeBytes, count >= Self.largeBytesThreshold else { return .bytes(try take(count)) }
        guard count <= remaining else { throw fail("unexpected end of data (file truncated)") }
        var delivered = 0
        try largeBytes(count) { buffer in
            guard delivered + buffer.count <= count else { throw fail("byte string consumer read past its end") }
            try read(into: buffer)
            delivered += buffer.count
        }
        guard delivered == count else { throw fail("byte string consumer read \(delivered) of \(count) bytes") }
        return .streamed(count: count)
    }

    private mutating func integer(_ width: Int, signed: Bool, bigEndian: Bool = false) throws -> Int {
        guard width <= 8 else { throw fail("integer of \(width) bytes is too large") }
        let bytes = try take(width)
        var value: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            value |= UInt64(b) << (8 * UInt64(bigEndian ? width - 1 - i : i))
        }
        if signed, width > 0, width < 8, value & (1 << (8 * UInt64(width) - 1)) != 0 {
            value |= ~0 << (8 * UInt64(width))
        }
        return Int(truncatingIfNeeded: value)
    }

    /// A newline-terminated name (GLOBAL's module and name), at most 256 bytes.
    private mutating func line() throws -> String {
        var bytes: [UInt8] = []
        while true {
            let b = try byte()
            if b == 0x0A { return text(bytes) }
            guard bytes.count < 256 else { throw fail("unterminated GLOBAL name") }
            bytes.append(b)
        }
    }

    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
