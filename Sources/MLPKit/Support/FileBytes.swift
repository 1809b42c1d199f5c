import Foundation

/// The whole file at `path`, read once; a folder, a missing or an unreadable file is one line
/// naming it, `what` saying what the file should have been ("a model file").
public func fileBytes(atPath path: String, what: String = "a file") throws -> Data {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw MLPError.io(path: path, problem: "no such file") }
    if isFolder.boolValue { throw MLPError.io(path: path, problem: "is a folder, not \(what)") }
    guard let data = FileManager.default.contents(atPath: path) else { throw MLPError.io(path: path, problem: "cannot read file") }
    return data
}
