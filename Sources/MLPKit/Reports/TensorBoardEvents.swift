import CTensorBoard
import Foundation

/// One TensorFlow event file, the kind TensorBoard reads, written as TensorFlow's `EventsWriter`
/// writes it: `events.out.tfevents.<time>.<host>.<pid>.<n>.v2` in its run folder, a sequence of
/// records (a little-endian length, its masked CRC32C, an `Event` protobuf, the protobuf's masked
/// CRC32C), the first event holding `file_version` "brain.Event:2".
///
/// Each event is written whole and flushed; a process killed mid-write leaves at most a
/// truncated last record, which TensorBoard's reader skips.
public final class TensorBoardEventFile {
    /// The file's path.
    public let path: String
    private let handle: FileHandle

    /// Creates `directory` (and its parents) and a new event file in it.
    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MLPError.format(path: directory, problem: "cannot create the TensorBoard folder (\(error.localizedDescription))")
        }
        let host = ProcessInfo.processInfo.hostName, pid = ProcessInfo.processInfo.processIdentifier
        var number = 0, candidate: String
        repeat {
            candidate = (directory as NSString).appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host).\(pid).\(number).v2")
            number += 1
        } while FileManager.default.fileExists(atPath: candidate)
        guard FileManager.default.createFile(atPath: candidate, contents: nil), let handle = FileHandle(forWritingAtPath: candidate) else {
            throw MLPError.format(path: candidate, problem: "cannot create the TensorBoard event file")
        }
        (path, self.handle) = (candidate, handle)
        try write(TensorBoardEvent.fileVersion(wallTime: wallTime))
    }

    deinit { try? handle.close() }

    /// Appends one serialized `Event` as a record.
    public func write(_ event: Data) throws {
        var record = Data(capacity: event.count + 16)
        var length = UInt64(event.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
        record.append(lengthBytes)
        record.append(littleEndian: Self.maskedCRC32C(lengthBytes))
        record.append(event)
        record.append(littleEndian: Self.maskedCRC32C(event))
        do {
            try handle.write(contentsOf: record)
        } catch {
            throw MLPError.format(path: path, problem: "cannot write (\(error.localizedDescription))")
        }
    }

    /// CRC32C (Castagnoli).
    public static func crc32c(_ data: Data) -> UInt32 { Checksums.crc32c(data) }

    /// TensorFlow's masked CRC: rotated right by 15 bits plus a constant, so that a CRC stored
    /// inside checksummed data does not checksum to itself.
    public static func maskedCRC32C(_ data: Data) -> UInt32 {
        let crc = crc32c(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

extension Data {
    fileprivate mutating func append(littleEndian value: UInt32) {
        var value = value.littleEndian
        Swift.withUnsafeBytes(of: &value) { append(contentsOf: $0) }
    }
}

/// Serialized `Event` protobufs of the kinds this toolchain writes.
public enum TensorBoardEvent {
    /// The first event of every file.
    public static func fileVersion(wallTime: Double) -> Data {
        let arena = ProtobufArena()
        let event = arena.message(Tensorboard__Event.self, tensorboard__event__init)
        event.pointee.wall_time = wallTime
        event.pointee.what_case = TENSORBOARD__EVENT__WHAT_FILE_VERSION
        event.pointee.file_version = arena.string("brain.Event:2")
        return protobufBytes(event)
    }

    /// A scalar as `tf.summary.scalar` writes it (and so Keras's `TensorBoard` callback): a
    /// float32 tensor of shape [] under the "scalars" plugin.
    public static func scalar(tag: String, value: Float, step: Int, wallTime: Double) -> Data {
        let arena = ProtobufArena()
        let tensor = arena.message(Tensorboard__TensorProto.self, tensorboard__tensor_proto__init)
        tensor.pointee.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT
        tensor.pointee.tensor_shape = arena.message(Tensorboard__TensorShapeProto.self, tensorboard__tensor_shape_proto__init)
        let bytes = arena.bytes(withUnsafeBytes(of: value.bitPattern.littleEndian) { Data($0) })
        tensor.pointee.tensor_content = bytes
        return summaryEvent(tag: tag, plugin: "scalars", content: Data(), tensor: tensor, step: step, wallTime: wallTime, arena: arena)
    }

    /// A summary of the hparams plugin (its experiment, or a session's start or end), as
    /// TensorBoard's `hparams` summary API writes it: the plugin data in the metadata, an empty
    /// float tensor of shape [0] as the value, at step 0.
    public static func hparams(tag: String, pluginData: Data, wallTime: Double) -> Data {
        let arena = ProtobufArena()
        let tensor = arena.message(Tensorboard__TensorProto.self, tensorboard__tensor_proto__init)
        tensor.pointee.dtype = TENSORBOARD__DATA_TYPE__DT_FLOAT
        let shape = arena.message(Tensorboard__TensorShapeProto.self, tensorboard__tensor_shape_proto__init)
        let dim = arena.message(Tensorboard__TensorShapeProto__Dim.self, tensorboard__tensor_shape_proto__dim__init)
        dim.pointee.size = 0
        shape.pointee.n_dim = 1
        shape.pointee.dim = arena.array([dim])
        tensor.pointee.tensor_shape = shape
        return summaryEvent(tag: tag, plugin: "hparams", content: pluginData, tensor: tensor, step: 0, wallTime: wallTime, arena: arena)
    }

    private static func summaryEvent(tag: String, plugin: String, content: Data, tensor: UnsafeMutablePointer<Tensorboard__TensorProto>,
                                     step: Int, wallTime: Double, arena: ProtobufArena) -> Data {
        let pluginData = arena.message(Tensorboard__SummaryMetadata__PluginData.self, tensorboard__summary_metadata__plugin_data__init)
        pluginData.pointee.plugin_name = arena.string(plugin)
        pluginData.pointee.content = arena.bytes(content)
        let metadata = arena.message(Tensorboard__SummaryMetadata.self, tensorboard__summary_metadata__init)
        metadata.pointee.plugin_data = pluginData
        let value = arena.message(Tensorboard__Summary__Value.self, tensorboard__summary__value__init)
        value.pointee.tag = arena.string(tag)
        value.pointee.metadata = metadata
        value.pointee.value_case = TENSORBOARD__SUMMARY__VALUE__VALUE_TENSOR
        value.pointee.tensor = tensor
        let summary = arena.message(Tensorboard__Summary.self, tensorboard__summary__init)
        summary.pointee.n_value = 1
        summary.pointee.value = arena.array([value])
        let event = arena.message(Tensorboard__Event.self, tensorboard__event__init)
        event.pointee.wall_time = wallTime
        event.pointee.step = Int64(step)
        event.pointee.what_case = TENSORBOARD__EVENT__WHAT_SUMMARY
        event.pointee.summary = summary
        return protobufBytes(event)
    }
}
