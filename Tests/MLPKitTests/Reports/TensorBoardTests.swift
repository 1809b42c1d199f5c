import Foundation
import Testing
@testable import MLPKit

/// The record framing of TensorFlow's event files. The reports check reads whole runs and
/// searches with TensorBoard's own reader; these pin the checksum and the layout by hand.
@Suite struct TensorBoardTests {
    /// CRC32C's check value (RFC 3720, B.4: "123456789" → 0xE3069283) and TensorFlow's mask,
    /// ((crc >> 15) | (crc << 17)) + 0xa282ead8, computed by hand.
    @Test func crc32cAndMask() {
        #expect(TensorBoardEventFile.crc32c(Data("123456789".utf8)) == 0xE306_9283)
        #expect(TensorBoardEventFile.crc32c(Data(repeating: 0, count: 32)) == 0x8A91_36AA)
        let crc: UInt32 = 0xE306_9283
        #expect(TensorBoardEventFile.maskedCRC32C(Data("123456789".utf8)) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    /// A file of two records: each a little-endian length, its masked CRC, the bytes of an
    /// Event and their masked CRC; the first the file_version event.
    @Test func recordLayout() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try TensorBoardEventFile(directory: folder, wallTime: 1_700_000_000)
        let scalar = TensorBoardEvent.scalar(tag: "epoch_loss", value: 1.5, step: 2, wallTime: 1_700_000_001)
        try file.write(scalar)
        #expect(URL(fileURLWithPath: file.path).lastPathComponent.hasPrefix("events.out.tfevents.1700000000."))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file.path))
        var offset = 0, events: [Data] = []
        while offset < bytes.count {
            let header = bytes.subdata(in: offset..<offset + 8)
            let length = Int(header.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
            let lengthCRC = bytes.subdata(in: offset + 8..<offset + 12).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian }
            let body = bytes.subdata(in: offset + 12..<offset + 12 + length)
            let bodyCRC = bytes.subdata(in: offset + 12 + length..<offset + 16 + length).withUnsafeBytes { $0.loadUnaligned(as: UInt32.self).littleEndian }
            #expect(lengthCRC == TensorBoardEventFile.maskedCRC32C(header))
            #expect(bodyCRC == TensorBoardEventFile.maskedCRC32C(body))
            events.append(body)
            offset += 16 + length
        }
        #expect(offset == bytes.count)
        #expect(events == [TensorBoardEvent.fileVersion(wallTime: 1_700_000_000), scalar])
        // The version string and the float's little-endian bytes are in the protobufs as written.
        #expect(events[0].range(of: Data("brain.Event:2".utf8)) != nil)
        #expect(events[1].range(of: Data([0x00, 0x00, 0xC0, 0x3F])) != nil)
    }
}
