import Foundation

/// The holdout split of a CIFAR-100 archive, decoded once and kept in the user's cache
/// (`$XDG_CACHE_HOME/mlp`, else `~/.cache/mlp`), as dataset libraries keep what they prepared:
/// the holdout split lies behind the 155 MB training split in the archive, and a gzip stream can
/// only be read from its start, so every evaluation would otherwise inflate the whole archive.
///
/// An entry belongs to one archive as it is on disk (its path, size, inode, and its modification
/// and change times, to the nanosecond) and one label mode; an archive written or replaced since
/// misses it. An entry's images are checked against the SHA-256 it records before they are used;
/// an entry that does not check out is read past, and the archive read instead.
public enum HoldoutCache {
    /// The cache's folder; nil without a home.
    public static var folder: String? {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["XDG_CACHE_HOME"], cache.hasPrefix("/") { return cache + "/mlp" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.cache/mlp"
    }

    /// The entry's file for `archive` read with `labelMode`; nil when the archive cannot be
    /// identified or there is no cache folder.
    static func entry(archive: String, labelMode: LabelMode, in folder: String?) -> String? {
        guard let folder, let real = realpath(archive, nil) else { return nil }
        defer { free(real) }
        var info = stat()
        guard stat(real, &info) == 0 else { return nil }
        let identity = [String(cString: real), "\(info.st_size)", "\(info.st_dev):\(info.st_ino)",
                        "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)", "\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)",
                        labelMode.rawValue, "v1"].joined(separator: "\n")
        let digest = Digest(.sha256)
        digest.update(Data(identity.utf8))
        return folder + "/holdout-" + digest.hex.prefix(32) + ".bin"
    }

    /// What an entry records beside the images and labels.
    struct Header: Codable {
        var name: String
        var classNames: [String]
        var count: Int
        /// `ImageDataset.contentDigest` of the images and labels.
        var contentSHA256: String
    }

    /// The holdout split of `archive` as `CIFAR100.load(splits: .holdoutOnly)` reads it; nil
    /// when the cache has no sound entry for it.
    static func load(archive: String, labelMode: LabelMode, in folder: String? = folder) -> DatasetPair? {
        guard let path = entry(archive: archive, labelMode: labelMode, in: folder), let data = FileManager.default.contents(atPath: path),
              let newline = data.firstIndex(of: 0x0A),
              let header = try? JSONRecords.decoder().decode(Header.self, from: data[data.startIndex..<newline]),
              header.count > 0, header.classNames.count == labelMode.classCount else { return nil }
        let imageBytes = header.count * CIFAR100.pixels, start = newline + 1
        guard data.count - start == imageBytes + 4 * header.count else { return nil }
        let images = [UInt8](data[start..<(start + imageBytes)])
        let labels = data[(start + imageBytes)...].withUnsafeBytes { raw in
            (0..<header.count).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        }
        guard labels.allSatisfy({ (0..<Int32(labelMode.classCount)).contains($0) }) else { return nil }
        let test = ImageDataset(images: images, labels: labels, shape: CIFAR100.imageShape, classNames: header.classNames)
        guard test.contentDigest == header.contentSHA256 else { return nil }
        let train = ImageDataset(images: [], labels: [], shape: CIFAR100.imageShape, classNames: header.classNames)
        return DatasetPair(train: train, test: test, name: header.name, source: archive, checksum: "")
    }

    /// Keeps `pair`'s holdout split for `archive`; a cache that cannot be written is passed by.
    static func store(_ pair: DatasetPair, archive: String, labelMode: LabelMode, in folder: String? = folder) {
        let test = pair.test
        guard test.count > 0, test.start == 0, test.count == test.storageLabels.count,
              let path = entry(archive: archive, labelMode: labelMode, in: folder), !FileManager.default.fileExists(atPath: path),
              let folder, (try? AtomicFile.makeFolder(folder)) != nil else { return }
        let header = Header(name: pair.name, classNames: test.classNames, count: test.count, contentSHA256: test.contentDigest)
        guard var data = try? JSONRecords.encoder().encode(header) else { return }
        data.append(0x0A)
        data.append(contentsOf: test.storage)
        for label in test.storageLabels { withUnsafeBytes(of: label.littleEndian) { data.append(contentsOf: $0) } }
        try? AtomicFile.write(data, to: path)
    }
}
