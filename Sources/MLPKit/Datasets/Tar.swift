/// A strict reader of POSIX tar archives (ustar, with GNU long names and pax paths): enough to
/// find members by name and read them one at a time from a stream.
struct TarReader {
    /// A regular file's header in the archive: its name and size (its data follows the header).
    public struct Entry {
        public var name: String
        public var size: Int
        /// "0" regular file, "5" folder, ...
        public var type: Character
    }

    let file: ByteReader
    private var pendingName: String?
    /// The member `next` returned last, bounded by its size, and that size.
    private var current: BoundedReader?
    private var currentSize = 0

    public init(_ file: ByteReader) { self.file = file }

    private func fail(_ problem: String) -> MLPError { .format(path: file.path, problem: "tar: \(problem)") }

    /// The next member's header, or nil at the end of the archive. Unread data of the previous
    /// member is skipped.
    public mutating func next() throws -> Entry? {
        if let current {
            try file.skip(current.remaining + padding(currentSize))
            self.current = nil
        }
        while true {
            let header = try file.read(count: 512)
            if header.allSatisfy({ $0 == 0 }) { return nil }
            let stored = try octal(header[148..<156], field: "checksum")
            let sum = header.enumerated().reduce(0) { $0 + (148..<156 ~= $1.offset ? 32 : Int($1.element)) }
            guard stored == sum else { throw fail("header checksum mismatch (archive corrupt or not a tar file)") }
            let size = try octal(header[124..<136], field: "size")
            // CIFAR's largest member is 155 MB; a larger size is a damaged header, not data to allocate.
            guard size <= 1 << 30 else { throw fail("member size \(size) in header is implausible (archive damaged)") }
            let type = Character(Unicode.Scalar(header[156] == 0 ? UInt8(ascii: "0") : header[156]))
            var name = text(header[0..<100])
            if header[257..<262].elementsEqual("ustar".utf8) {
                let prefix = text(header[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            switch type {
            case "L":
                guard size <= 1 << 16 else { throw fail("long name of \(size) bytes is implausible (archive damaged)") }
                pendingName = text(try file.read(count: size)[...])
                try file.skip(padding(size))
            case "x":
                guard size <= 1 << 20 else { throw fail("pax header of \(size) bytes is implausible (archive damaged)") }
                let records = String(decoding: try file.read(count: size), as: UTF8.self)
                try file.skip(padding(size))
                for record in records.split(separator: "\n") {
                    if let range = record.range(of: " path=") { pendingName = String(record[range.upperBound...]) }
                }
            case "g":
                try file.skip(size + padding(size))
            default:
                let entry = Entry(name: pendingName ?? name, size: size, type: type)
                pendingName = nil
                current = BoundedReader(file, count: size, path: "\(file.path) (\(entry.name))")
                currentSize = size
                return entry
            }
        }
    }

    /// The data of the member just returned by `next`, to be read before the next call of `next`.
    public var member: BoundedReader? { current }

    private func padding(_ size: Int) -> Int { (512 - size % 512) % 512 }

    private func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private func octal(_ bytes: ArraySlice<UInt8>, field: String) throws -> Int {
        let digits = bytes.drop { $0 == 32 }.prefix { $0 != 0 && $0 != 32 }
        var value = 0
        for byte in digits {
            guard (48...55).contains(byte), value < Int.max / 8 else { throw fail("bad \(field) field in header") }
            value = value * 8 + Int(byte - 48)
        }
        return value
    }
}
