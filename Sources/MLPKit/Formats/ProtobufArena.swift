import CONNX
import Foundation

/// The C memory a protobuf-c message is built in, freed all at once when the arena goes.
final class ProtobufArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { blocks.forEach { free($0) } }

    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let raw = malloc(max(1, count) * MemoryLayout<T>.stride)!
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(1, count))
    }

    /// A message, set to its defaults by protobuf-c's `init`.
    func message<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(type, count: 1)
        initialize(pointer)
        return pointer
    }

    func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(text)!
        blocks.append(pointer)
        return pointer
    }

    /// A `bytes` field's value: a copy of `data`.
    func bytes(_ data: Data) -> ProtobufCBinaryData {
        let pointer = allocate(UInt8.self, count: data.count)
        data.copyBytes(to: pointer, count: data.count)
        return ProtobufCBinaryData(len: data.count, data: data.isEmpty ? nil : pointer)
    }

    func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: values.count)
        for (index, value) in values.enumerated() { (pointer + index).initialize(to: value) }
        return pointer
    }

    func array<T>(_ values: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        array(values.map { Optional($0) })
    }

    func array(_ values: [UnsafeMutablePointer<CChar>]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        array(values.map { Optional($0) })
    }
}

/// A protobuf-c message's wire bytes.
func protobufBytes<T>(_ message: UnsafeMutablePointer<T>) -> Data {
    let message = UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self)
    var data = Data(count: protobuf_c_message_get_packed_size(message))
    data.withUnsafeMutableBytes { _ = protobuf_c_message_pack(message, $0.bindMemory(to: UInt8.self).baseAddress) }
    return data
}
