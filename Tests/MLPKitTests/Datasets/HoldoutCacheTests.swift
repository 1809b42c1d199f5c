import Foundation
import Testing
@testable import MLPKit

/// The decoded holdout split kept in the user's cache: the same split the archive gives, used
/// only for the archive as it was when kept, and never when its bytes do not check out.
@Suite struct HoldoutCacheTests {
    let archive = fixture("cifar/cifar-100-python.tar.gz")

    @Test func sameSplitAsTheArchive() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache").path, copy = folder.appendingPathComponent("c.tar.gz").path
        try FileManager.default.copyItem(atPath: archive, toPath: copy)
        #expect(HoldoutCache.load(archive: copy, labelMode: .fine, in: cache) == nil)
        // Read from the archive: kept; read again: from the cache, equal.
        let read = try CIFAR100.load(path: copy, splits: .holdoutOnly, cache: cache)
        let cached = try #require(HoldoutCache.load(archive: copy, labelMode: .fine, in: cache))
        #expect(cached.test.contentDigest == read.test.contentDigest && cached.test.classNames == read.test.classNames)
        #expect(cached.name == read.name && cached.checksum == read.checksum && cached.train.count == 0)
        let again = try CIFAR100.load(path: copy, splits: .holdoutOnly, cache: cache)
        #expect(again.test.contentDigest == read.test.contentDigest && again.test.labels == read.test.labels)
        // Another label mode is another entry.
        #expect(HoldoutCache.load(archive: copy, labelMode: .coarse, in: cache) == nil)
        // An archive written since (its times change) misses the entry.
        var times = [timeval(tv_sec: 1_000_000, tv_usec: 0), timeval(tv_sec: 1_000_000, tv_usec: 0)]
        #expect(utimes(copy, &times) == 0)
        #expect(HoldoutCache.load(archive: copy, labelMode: .fine, in: cache) == nil)
    }

    /// An entry whose bytes were changed is read past: the archive is read instead.
    @Test func damagedEntryIsReadPast() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = folder.appendingPathComponent("cache").path, copy = folder.appendingPathComponent("c.tar.gz").path
        try FileManager.default.copyItem(atPath: archive, toPath: copy)
        let read = try CIFAR100.load(path: copy, splits: .holdoutOnly, cache: cache)
        let entry = try #require(HoldoutCache.entry(archive: copy, labelMode: .fine, in: cache))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: entry))
        bytes[bytes.count - 5000] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: entry))
        #expect(HoldoutCache.load(archive: copy, labelMode: .fine, in: cache) == nil)
        let again = try CIFAR100.load(path: copy, splits: .holdoutOnly, cache: cache)
        #expect(again.test.contentDigest == read.test.contentDigest)
    }
}
