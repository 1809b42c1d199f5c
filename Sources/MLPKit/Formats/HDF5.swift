import CHDF5
import Foundation

/// A thin wrapper over the HDF5 C library: files, groups, string and number attributes, and
/// float32 / int64 datasets. The library's own error printing is off; failures become
/// `MLPError`s that name the file and the object.
///
/// The serial HDF5 library is not thread-safe, so every use goes through `HDF5.locked`.
enum HDF5 {
    private static let lock = NSRecursiveLock()

    /// Runs `body` while holding the process-wide HDF5 lock.
    public static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        _ = silenced
        return try body()
    }

    private static let silenced: Void = { H5Eset_auto2(h5e_default(), nil, nil) }()

    /// The innermost message of HDF5's current error stack, e.g. "unable to open file".
    /// Where HDF5's signature starts in a file's bytes: at 0, or after a user block of 512,
    /// 1024, 2048, ... bytes, where libhdf5 looks for it; nil when it is in none of those places.
    public static func signatureOffset(in bytes: Data) -> Int? {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        var offset = 0
        while offset + signature.count <= bytes.count {
            let start = bytes.startIndex + offset
            if bytes[start..<(start + signature.count)].elementsEqual(signature) { return offset }
            offset = offset == 0 ? 512 : offset * 2
        }
        return nil
    }

    static func lastError() -> String {
        var messages: [String] = []
        _ = withUnsafeMutablePointer(to: &messages) { pointer in
            H5Ewalk2(h5e_default(), H5E_WALK_DOWNWARD, { _, error, context in
                let list = context!.assumingMemoryBound(to: [String].self)
                if let desc = error?.pointee.desc { list.pointee.append(String(cString: desc)) }
                return 0
            }, pointer)
        }
        H5Eclear2(h5e_default())
        return messages.first ?? "HDF5 error"
    }
}

/// An open HDF5 object id, closed when the wrapper goes away.
final class H5Handle {
    let id: hid_t
    private let close: (hid_t) -> herr_t

    init(_ id: hid_t, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.close = close
    }

    deinit { _ = close(id) }
}

/// A file or group: both hold attributes, groups and datasets.
final class H5Group {
    let handle: H5Handle
    /// The file on disk, for error messages.
    public let path: String
    /// The object's path inside the file ("/model_weights/dense").
    public let objectPath: String
    /// The group this one was opened from, kept open while this one is: a file closes
    /// everything in it when it closes.
    private let parent: H5Group?
    /// The most values a dataset of this file can hold: what its bytes hold uncompressed,
    /// a thousand times over for compression (deflate's limit is about 1,032 to 1), so that a
    /// damaged shape is refused before anything is allocated for it.
    let valueLimit: Int

    init(handle: H5Handle, path: String, objectPath: String, parent: H5Group? = nil, valueLimit: Int = Int.max) {
        self.handle = handle
        self.path = path
        self.objectPath = objectPath
        self.parent = parent
        self.valueLimit = parent?.valueLimit ?? valueLimit
    }

    /// The most values a file of `bytes` bytes can hold (see `valueLimit`).
    public static func valueLimit(fileBytes bytes: Int) -> Int { bytes / 4 * 1100 + (1 << 20) }

    var id: hid_t { handle.id }

    func fail(_ what: String) -> MLPError {
        .format(path: path, problem: "\(what) (\(HDF5.lastError()))")
    }

    func child(_ name: String) -> String { objectPath == "/" ? "/" + name : objectPath + "/" + name }

    // MARK: Files

    /// How files are opened: without HDF5's file locks, which this toolchain does not need (a
    /// file is written under a temporary name and renamed when complete, so no reader sees it
    /// half-written) and which make opening a file fail while another handle holds it; and with
    /// the strong close degree, so closing a file closes everything opened in it.
    static func fileAccess() -> hid_t {
        let fapl = H5Pcreate(h5p_file_access())
        H5Pset_file_locking(fapl, false, true)
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG)
        return fapl
    }

    /// Creates (truncating) a file for writing; errors name `displayPath` (the file that a
    /// temporary file will become).
    public static func create(path: String, displayPath: String? = nil) throws -> H5Group {
        let fapl = fileAccess()
        defer { H5Pclose(fapl) }
        let fid = H5Fcreate(path, h5f_acc_trunc(), h5_p_default(), fapl)
        guard fid >= 0 else { throw MLPError.io(path: displayPath ?? path, problem: "cannot create HDF5 file (\(HDF5.lastError()))") }
        return H5Group(handle: H5Handle(fid, close: H5Fclose), path: displayPath ?? path, objectPath: "/")
    }

    /// Creates a file that lives in memory only (HDF5's core driver, no backing store):
    /// libhdf5 never touches the disk, so a full or read-only disk cannot fail inside it (a
    /// file that libhdf5 failed to close crashes it when the process exits). `fileImage()`
    /// gives the bytes to write.
    public static func createInMemory(displayPath: String) throws -> H5Group {
        let fapl = fileAccess()
        defer { H5Pclose(fapl) }
        H5Pset_fapl_core(fapl, 1 << 20, false)
        let name = "memory-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fid = H5Fcreate(name, h5f_acc_trunc(), h5_p_default(), fapl)
        guard fid >= 0 else { throw MLPError.io(path: displayPath, problem: "cannot create HDF5 file (\(HDF5.lastError()))") }
        return H5Group(handle: H5Handle(fid, close: H5Fclose), path: displayPath, objectPath: "/")
    }

    /// The bytes of the file this group belongs to, as they would be on disk, after flushing
    /// what libhdf5 still holds.
    public func fileImage() throws -> Data {
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw fail("cannot flush the file (\(HDF5.lastError()))") }
        let size = H5Fget_file_image(id, nil, 0)
        guard size > 0 else { throw fail("cannot take the file's image (\(HDF5.lastError()))") }
        var image = Data(count: size)
        let copied = image.withUnsafeMutableBytes { H5Fget_file_image(id, $0.baseAddress, size) }
        guard copied == size else { throw fail("cannot take the file's image (\(HDF5.lastError()))") }
        return image
    }

    /// Opens an existing file read-only.
    public static func open(path: String) throws -> H5Group {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MLPError.io(path: path, problem: "no such file")
        }
        guard H5Fis_hdf5(path) > 0 else { throw MLPError.format(path: path, problem: "not an HDF5 file") }
        let fapl = fileAccess()
        defer { H5Pclose(fapl) }
        let fid = H5Fopen(path, h5f_acc_rdonly(), fapl)
        guard fid >= 0 else {
            throw MLPError.format(path: path, problem: HDF5.openProblem((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()))
        }
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
        return H5Group(handle: H5Handle(fid, close: H5Fclose), path: path, objectPath: "/", valueLimit: valueLimit(fileBytes: bytes))
    }

    /// Whether libhdf5 takes the file at `path` for HDF5 (its signature may follow a user block).
    public static func isHDF5(path: String) -> Bool {
        let answer = H5Fis_hdf5(path) > 0
        H5Eclear2(h5e_default())
        return answer
    }

    /// Opens a file held in memory (a file's bytes, or an `.h5` inside a zip), read-only;
    /// errors name `displayPath`.
    public static func open(image: Data, displayPath: String) throws -> H5Group {
        guard HDF5.signatureOffset(in: image) != nil else { throw MLPError.format(path: displayPath, problem: "not an HDF5 file") }
        let fapl = fileAccess()
        defer { H5Pclose(fapl) }
        H5Pset_fapl_core(fapl, 1 << 20, false)
        let copied = image.withUnsafeBytes { H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: $0.baseAddress), image.count) }
        guard copied >= 0 else { throw MLPError.format(path: displayPath, problem: "cannot take the HDF5 image (\(HDF5.lastError()))") }
        let name = "image-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fid = H5Fopen(name, h5f_acc_rdonly(), fapl)
        guard fid >= 0 else { throw MLPError.format(path: displayPath, problem: HDF5.openProblem(image)) }
        return H5Group(handle: H5Handle(fid, close: H5Fclose), path: displayPath, objectPath: "/",
                       valueLimit: valueLimit(fileBytes: image.count))
    }

    // MARK: Groups

    /// Whether the group has a link called `name` (a group or a dataset).
    public func contains(_ name: String) -> Bool {
        // Check each level, since H5Lexists fails on a path whose parent is missing.
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5Lexists(id, prefix, h5_p_default()) > 0 else { H5Eclear2(h5e_default()); return false }
        }
        return !prefix.isEmpty
    }

    /// Opens the subgroup `name`; throws naming the file when it is missing.
    public func group(_ name: String) throws -> H5Group {
        guard contains(name) else { throw MLPError.format(path: path, problem: "no group \(child(name))") }
        let gid = H5Gopen2(id, name, h5_p_default())
        guard gid >= 0 else { throw fail("cannot open group \(child(name))") }
        return H5Group(handle: H5Handle(gid, close: H5Gclose), path: path, objectPath: child(name), parent: self)
    }

    /// The names of the links (groups and datasets) directly in this group, in HDF5's name order.
    public func memberNames() throws -> [String] {
        var names: [String] = []
        var index: hsize_t = 0
        let status = withUnsafeMutablePointer(to: &names) { pointer in
            H5Literate(id, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, context in
                context!.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name!))
                return 0
            }, pointer)
        }
        guard status >= 0 else { throw fail("cannot list \(objectPath)") }
        return names
    }

    /// Creates a group, and any missing parents when `name` contains slashes.
    public func createGroup(_ name: String) throws -> H5Group {
        let lcpl = H5Pcreate(h5p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let gid = H5Gcreate2(id, name, lcpl, h5_p_default(), h5_p_default())
        guard gid >= 0 else { throw fail("cannot create group \(child(name))") }
        return H5Group(handle: H5Handle(gid, close: H5Gclose), path: path, objectPath: child(name), parent: self)
    }

    // MARK: Attributes

    /// Whether the group has the attribute `name`.
    public func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    /// The names of every attribute, in alphabetical order.
    public func attributeNames() throws -> [String] {
        var names: [String] = []
        let status = withUnsafeMutablePointer(to: &names) { pointer in
            H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                context!.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name!))
                return 0
            }, pointer)
        }
        guard status >= 0 else { throw fail("cannot list the attributes of \(objectPath)") }
        return names
    }

    /// A scalar, variable-length UTF-8 string attribute.
    public func setAttribute(_ name: String, string value: String) throws {
        try writeStrings(name, [value], scalar: true)
    }

    /// A one-dimensional attribute of variable-length UTF-8 strings.
    public func setAttribute(_ name: String, strings values: [String]) throws {
        guard !values.isEmpty else {
            // Keras stores an empty name list as an empty float64 array; so does this writer.
            var dims: [hsize_t] = [0]
            let space = H5Screate_simple(1, &dims, nil)
            defer { H5Sclose(space) }
            let aid = H5Acreate2(id, name, h5_native_double(), space, h5_p_default(), h5_p_default())
            guard aid >= 0 else { throw fail("cannot write attribute \(name) of \(objectPath)") }
            H5Aclose(aid)
            return
        }
        try writeStrings(name, values, scalar: false)
    }

    private func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws {
        let type = H5Tcopy(h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        var dims: [hsize_t] = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let aid = H5Acreate2(id, name, type, space, h5_p_default(), h5_p_default())
        guard aid >= 0 else { throw fail("cannot write attribute \(name) of \(objectPath)") }
        defer { H5Aclose(aid) }
        let cStrings = values.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers = cStrings.map { UnsafePointer($0) }
        guard H5Awrite(aid, type, &pointers) >= 0 else { throw fail("cannot write attribute \(name) of \(objectPath)") }
    }

    /// Reads a string or list-of-strings attribute, fixed or variable length, ASCII or UTF-8.
    /// An empty numeric array reads as no strings. Keras's split form (name0, name1, ...) is
    /// joined when `name` itself is absent.
    public func strings(_ name: String) throws -> [String] {
        if !hasAttribute(name) {
            var parts: [String] = []
            var index = 0
            while hasAttribute("\(name)\(index)") {
                parts += try readStrings("\(name)\(index)")
                index += 1
            }
            guard index > 0 else { throw MLPError.format(path: path, problem: "\(objectPath) has no attribute '\(name)'") }
            return parts
        }
        return try readStrings(name)
    }

    /// A single string attribute (see `strings`).
    public func string(_ name: String) throws -> String {
        let values = try strings(name)
        guard values.count == 1 else {
            throw MLPError.format(path: path, problem: "attribute '\(name)' of \(objectPath) holds \(values.count) strings, expected 1")
        }
        return values[0]
    }

    private func readStrings(_ name: String) throws -> [String] {
        let aid = H5Aopen(id, name, h5_p_default())
        guard aid >= 0 else { throw fail("cannot open attribute \(name) of \(objectPath)") }
        defer { H5Aclose(aid) }
        let fileType = H5Aget_type(aid)
        defer { H5Tclose(fileType) }
        let space = H5Aget_space(aid)
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        guard count >= 0, count <= valueLimit else {
            throw MLPError.format(path: path, problem: "attribute '\(name)' of \(objectPath) claims \(count) values, more than the file can hold")
        }
        let typeClass = H5Tget_class(fileType)
        if typeClass != H5T_STRING {
            if count == 0 { return [] }
            throw MLPError.format(path: path, problem: "attribute '\(name)' of \(objectPath) is not a string")
        }
        if count == 0 { return [] }
        if H5Tis_variable_str(fileType) > 0 {
            let memType = H5Tcopy(h5t_c_s1())
            defer { H5Tclose(memType) }
            H5Tset_size(memType, h5t_variable())
            H5Tset_cset(memType, H5Tget_cset(fileType))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(aid, memType, &pointers) >= 0 else { throw fail("cannot read attribute \(name) of \(objectPath)") }
            defer { H5Dvlen_reclaim(memType, space, h5_p_default(), &pointers) }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(fileType)
        guard size > 0, size <= 1 << 20, size * count <= valueLimit else {
            throw MLPError.format(path: path, problem: "attribute '\(name)' of \(objectPath) claims strings of \(size) bytes")
        }
        let memType = H5Tcopy(fileType)
        defer { H5Tclose(memType) }
        var bytes = [UInt8](repeating: 0, count: size * count)
        guard H5Aread(aid, memType, &bytes) >= 0 else { throw fail("cannot read attribute \(name) of \(objectPath)") }
        return (0..<count).map { i in
            let raw = bytes[(i * size)..<((i + 1) * size)]
            let end = raw.firstIndex(of: 0) ?? raw.endIndex
            return String(decoding: raw[raw.startIndex..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
    }

    // MARK: Datasets

    /// Writes a float32 dataset of `shape` ([] for a scalar), creating parent groups.
    public func writeDataset(_ name: String, floats values: UnsafePointer<Float>, shape: [Int]) throws {
        try writeDataset(name, type: h5t_ieee_f32le(), memType: h5_native_float(), shape: shape, data: values)
    }

    /// Writes a scalar int64 dataset (an optimizer's `iterations`).
    public func writeDataset(_ name: String, int64 value: Int64) throws {
        var v = value
        try writeDataset(name, type: h5t_std_i64le(), memType: h5_native_int64(), shape: [], data: &v)
    }

    private func writeDataset(_ name: String, type: hid_t, memType: hid_t, shape: [Int], data: UnsafeRawPointer) throws {
        var dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dims, nil)
        defer { H5Sclose(space) }
        let lcpl = H5Pcreate(h5p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let did = H5Dcreate2(id, name, type, space, lcpl, h5_p_default(), h5_p_default())
        guard did >= 0 else { throw fail("cannot create dataset \(child(name))") }
        defer { H5Dclose(did) }
        guard H5Dwrite(did, memType, h5s_all(), h5s_all(), h5_p_default(), data) >= 0 else {
            throw fail("cannot write dataset \(child(name))")
        }
    }

    /// Reads any numeric dataset as float32 with its shape ([] for a scalar).
    public func readFloats(_ name: String) throws -> (values: [Float], shape: [Int]) {
        guard contains(name) else { throw MLPError.format(path: path, problem: "no dataset \(child(name))") }
        let did = H5Dopen2(id, name, h5_p_default())
        guard did >= 0 else { throw fail("cannot open dataset \(child(name))") }
        defer { H5Dclose(did) }
        let fileType = H5Dget_type(did)
        defer { H5Tclose(fileType) }
        let typeClass = H5Tget_class(fileType)
        guard typeClass == H5T_FLOAT || typeClass == H5T_INTEGER else {
            throw MLPError.format(path: path, problem: "dataset \(child(name)) is not numeric")
        }
        let shape = try self.shape(of: did, name: name)
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        if !values.isEmpty {
            guard H5Dread(did, h5_native_float(), h5s_all(), h5s_all(), h5_p_default(), &values) >= 0 else {
                throw fail("cannot read dataset \(child(name))")
            }
        }
        return (values, shape)
    }

    /// A dataset's shape, checked: a sane rank, and no more values than the file can hold.
    func shape(of did: hid_t, name: String) throws -> [Int] {
        let space = H5Dget_space(did)
        guard space >= 0 else { throw fail("cannot read the shape of dataset \(child(name))") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard (0...32).contains(rank) else {
            throw MLPError.format(path: path, problem: "dataset \(child(name)) has a damaged shape (rank \(rank))")
        }
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { throw fail("cannot read the shape of dataset \(child(name))") }
        var shape: [Int] = [], count = 1
        for dim in dims.prefix(rank) {
            guard let size = Int(exactly: dim) else {
                throw MLPError.format(path: path, problem: "dataset \(child(name)) claims a dimension of \(dim)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, product <= valueLimit else {
                throw MLPError.format(path: path, problem: "dataset \(child(name)) claims \(dims.prefix(rank).map(String.init).joined(separator: " × ")) values, more than the file can hold")
            }
            shape.append(size)
            count = product
        }
        return shape
    }

    /// Reads a scalar integer dataset (such as an optimizer's `iteration`).
    public func readInt64(_ name: String) throws -> Int64 {
        guard contains(name) else { throw MLPError.format(path: path, problem: "no dataset \(child(name))") }
        let did = H5Dopen2(id, name, h5_p_default())
        guard did >= 0 else { throw fail("cannot open dataset \(child(name))") }
        defer { H5Dclose(did) }
        // One value only: reading a larger dataset into one Int64 would overrun it.
        let space = H5Dget_space(did)
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_npoints(space) == 1 else {
            throw MLPError.format(path: path, problem: "dataset \(child(name)) is not a scalar")
        }
        var value: Int64 = 0
        guard H5Dread(did, h5_native_int64(), h5s_all(), h5s_all(), h5_p_default(), &value) >= 0 else {
            throw fail("cannot read dataset \(child(name))")
        }
        return value
    }
}
