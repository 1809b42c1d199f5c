import CZip
import Foundation

/// Zip archives through libzip, whole in memory: reading the members of a small archive (a
/// `.keras` model) with every check a damaged or hostile file needs, and writing one.
public enum ZipArchive {
    /// How much bigger than its compressed bytes a deflated member may say it is. Deflate's
    /// own limit is about 1,032 to 1; model weights compress by a few percent, so a member that
    /// claims more than this is a zip bomb, refused before anything is inflated.
    static let expansionLimit = 1100

    /// A member as the archive's central directory describes it.
    public struct Entry: Sendable {
        public let name: String
        /// Its size once inflated, as its header claims.
        public let size: Int
        public let compressedSize: Int
        let index: zip_uint64_t
    }

    /// An archive held in memory, opened and checked: libzip finds it consistent, no member's
    /// name is absolute or climbs out with `..`, none is given twice, every member is stored or
    /// deflated and claims at most `expansionLimit` times its compressed size. Members are
    /// read one at a time, each up to a limit the caller sets, so a zip bomb costs nothing.
    public final class Reader {
        /// The archive's path, named in errors.
        public let path: String
        /// Every member, in the central directory's order.
        public let entries: [Entry]
        private let bytes: UnsafeMutableRawBufferPointer
        private let archive: OpaquePointer

        /// - Parameters:
        ///   - path: the file the bytes came from, for errors.
        public init(data: Data, path: String) throws {
            func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }
            self.path = path
            // libzip reads from this copy for as long as the archive is open.
            bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
            data.copyBytes(to: bytes.bindMemory(to: UInt8.self), count: data.count)
            var error = zip_error_t()
            zip_error_init(&error)
            defer { zip_error_fini(&error) }
            guard let source = zip_source_buffer_create(bytes.baseAddress, zip_uint64_t(data.count), 0, &error) else {
                bytes.deallocate()
                throw fail("cannot read the zip archive (\(String(cString: zip_error_strerror(&error))))")
            }
            guard let archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) else {
                zip_source_free(source)
                bytes.deallocate()
                // libzip refuses a name given twice as the file that "already exists".
                throw fail(zip_error_code_zip(&error) == ZIP_ER_EXISTS ? "a zip member's name appears twice"
                    : "not a readable zip archive (\(String(cString: zip_error_strerror(&error))))")
            }
            self.archive = archive
            do {
                entries = try Self.checkedEntries(archive, fail: fail)
            } catch {
                zip_discard(archive)
                bytes.deallocate()
                throw error
            }
        }

        deinit {
            zip_discard(archive)
            bytes.deallocate()
        }

        private static func checkedEntries(_ archive: OpaquePointer, fail: (String) -> MLPError) throws -> [Entry] {
            let count = zip_get_num_entries(archive, 0)
            guard count >= 0 else { throw fail("cannot list the zip archive's members") }
            var seen = Set<String>()
            var entries: [Entry] = []
            for index in 0..<zip_uint64_t(count) {
                var stat = zip_stat_t()
                zip_stat_init(&stat)
                guard zip_stat_index(archive, index, 0, &stat) == 0, let rawName = stat.name else {
                    throw fail("cannot read the zip archive's member #\(index) (\(String(cString: zip_strerror(archive))))")
                }
                let name = String(cString: rawName)
                if name.hasPrefix("/") || name.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
                    throw fail("zip member '\(name)' has a path outside the archive")
                }
                guard seen.insert(name).inserted else { throw fail("zip member '\(name)' appears twice") }
                guard stat.comp_method == zip_uint16_t(ZIP_CM_STORE) || stat.comp_method == zip_uint16_t(ZIP_CM_DEFLATE) else {
                    throw fail("zip member '\(name)' uses compression method \(stat.comp_method) (only stored and deflated are read)")
                }
                guard stat.size <= stat.comp_size &* UInt64(expansionLimit) &+ 4096, stat.size < UInt64(Int.max / 2) else {
                    throw fail("zip member '\(name)' claims \(stat.size) bytes from \(stat.comp_size) compressed: a zip bomb")
                }
                entries.append(Entry(name: name, size: Int(stat.size), compressedSize: Int(stat.comp_size), index: index))
            }
            return entries
        }

        /// The member called `name`, if any.
        public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

        /// The bytes of member `name`, which must claim at most `limit` bytes; its CRC is checked.
        public func read(_ name: String, limit: Int) throws -> Data {
            func fail(_ problem: String) -> MLPError { .format(path: path, problem: problem) }
            guard let entry = entry(name) else { throw fail("the archive has no \(name)") }
            guard entry.size <= limit else {
                throw fail("zip member '\(name)' claims \(entry.size) bytes, more than the \(limit) it can hold here")
            }
            return try ZipArchive.read(archive, index: entry.index, size: entry.size, name: name, fail: fail)
        }
    }

    /// Reads exactly `size` bytes, and checks that the member ends there (libzip checks its CRC
    /// once the whole member is read).
    private static func read(_ archive: OpaquePointer, index: zip_uint64_t, size: Int, name: String,
                             fail: (String) -> MLPError) throws -> Data {
        guard let file = zip_fopen_index(archive, index, 0) else {
            throw fail("cannot open zip member '\(name)' (\(String(cString: zip_strerror(archive))))")
        }
        defer { zip_fclose(file) }
        var data = Data(count: size + 1)
        var filled = 0
        let problem: String? = data.withUnsafeMutableBytes { buffer in
            while filled <= size {
                let got = zip_fread(file, buffer.baseAddress! + filled, zip_uint64_t(size + 1 - filled))
                if got < 0 { return String(cString: zip_file_strerror(file)) }
                if got == 0 { break }
                filled += Int(got)
            }
            return nil
        }
        if let problem { throw fail("zip member '\(name)' is damaged (\(problem))") }
        guard filled == size else {
            throw fail("zip member '\(name)' holds \(filled > size ? "more" : "fewer") bytes than its header's \(size)")
        }
        data.count = size
        return data
    }

    /// A zip archive of `members`, in the order given, stored (not compressed), as Keras writes
    /// `.keras` files.
    ///
    /// - Parameters:
    ///   - path: the file the archive is for, for errors.
    public static func archive(_ members: [(name: String, data: Data)], path: String) throws -> Data {
        func fail(_ problem: String) -> MLPError { .io(path: path, problem: "cannot build the zip archive (\(problem))") }
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        guard let target = zip_source_buffer_create(nil, 0, 0, &error) else { throw fail(String(cString: zip_error_strerror(&error))) }
        // The target outlives the archive: closing the archive writes into it.
        zip_source_keep(target)
        defer { zip_source_free(target) }
        guard let archive = zip_open_from_source(target, ZIP_TRUNCATE, &error) else {
            zip_source_free(target)
            throw fail(String(cString: zip_error_strerror(&error)))
        }
        // libzip reads each member's bytes when the archive closes, so they are kept until then.
        var buffers: [UnsafeMutableRawBufferPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        for member in members {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(member.data.count, 1), alignment: 1)
            buffers.append(buffer)
            member.data.copyBytes(to: buffer.bindMemory(to: UInt8.self), count: member.data.count)
            guard let source = zip_source_buffer(archive, buffer.baseAddress, zip_uint64_t(member.data.count), 0) else {
                zip_discard(archive)
                throw fail(String(cString: zip_strerror(archive)))
            }
            let index = zip_file_add(archive, member.name, source, zip_flags_t(ZIP_FL_ENC_UTF_8))
            guard index >= 0, zip_set_file_compression(archive, zip_uint64_t(index), ZIP_CM_STORE, 0) == 0 else {
                let message = String(cString: zip_strerror(archive))
                if index < 0 { zip_source_free(source) }
                zip_discard(archive)
                throw fail(message)
            }
        }
        guard zip_close(archive) == 0 else {
            let message = String(cString: zip_strerror(archive))
            zip_discard(archive)
            throw fail(message)
        }
        guard zip_source_open(target) == 0 else { throw fail("cannot read back the archive") }
        defer { zip_source_close(target) }
        zip_source_seek(target, 0, SEEK_END)
        let size = zip_source_tell(target)
        zip_source_seek(target, 0, SEEK_SET)
        guard size >= 0 else { throw fail("cannot size the archive") }
        var bytes = Data(count: Int(size))
        let read = bytes.withUnsafeMutableBytes { zip_source_read(target, $0.baseAddress, zip_uint64_t(size)) }
        guard read == size else { throw fail("cannot read back the archive") }
        return bytes
    }
}
