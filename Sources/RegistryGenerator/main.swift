import Foundation

// Writes a Swift file listing the types of the given sources that conform to a registry
// protocol, by the registry each protocol fills:
//
//     RegistryGenerator OUTPUT.swift SOURCE.swift...
//
// A conformance counts where it is declared at the start of a line, on the declaration of the
// type or of an extension: `public final class Dense: RegisteredLayer {` or `extension Dense: RegisteredLayer {`.

/// Each registry protocol and the registry (an enum of the library's) whose `registered` list it fills.
let registries = [
    ("RegisteredLayer", "Layers"),
    ("RegisteredOptimizer", "Optimizers"),
    ("RegisteredSampler", "Samplers"),
    ("RegisteredPruner", "Pruners"),
    ("RegisteredStorage", "Storages"),
    ("RegisteredDatasetSource", "DatasetSources"),
    ("RegisteredModelFormat", "ModelFormats"),
    ("RegisteredCallback", "Callbacks"),
    ("RegisteredHyperparameter", "Hyperparameters"),
    ("RegisteredMetric", "Metrics"),
]

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: RegistryGenerator OUTPUT.swift SOURCE.swift...\n".utf8))
    exit(2)
}
let declaration = try! NSRegularExpression(
    pattern: #"^(?:(?:public|internal|package|final|open)\s+)*(?:class|struct|enum|actor|extension)\s+([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{]+)\{"#,
    options: [.anchorsMatchLines])
let protocolDeclaration = try! NSRegularExpression(
    pattern: #"^(?:(?:public|internal|package)\s+)*protocol\s+([A-Za-z_][A-Za-z0-9_]*)"#, options: [.anchorsMatchLines])
var members: [String: Set<String>] = [:]
var declaredProtocols = Set<String>()
for path in arguments.dropFirst() {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        FileHandle.standardError.write(Data("RegistryGenerator: cannot read \(path)\n".utf8))
        exit(1)
    }
    let range = NSRange(text.startIndex..., in: text)
    for match in protocolDeclaration.matches(in: text, range: range) {
        if let name = Range(match.range(at: 1), in: text) { declaredProtocols.insert(String(text[name])) }
    }
    for match in declaration.matches(in: text, range: range) {
        guard let name = Range(match.range(at: 1), in: text), let list = Range(match.range(at: 2), in: text) else { continue }
        // "Layer, RegisteredLayer where ..." → ["Layer", "RegisteredLayer"]
        let conformances = text[list].split(separator: "where").first.map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        } ?? []
        for (proto, _) in registries where conformances.contains(proto) {
            members[proto, default: []].insert(String(text[name]))
        }
    }
}
var lines = ["// Generated at build time by the Registry plugin from the conformances in the sources.", ""]
// A registry whose protocol the library does not declare is left out.
for (proto, registry) in registries where declaredProtocols.contains(proto) {
    let types = (members[proto] ?? []).sorted().map { "\($0).self" }.joined(separator: ", ")
    lines.append("extension \(registry) {")
    lines.append("    /// Every type of the library that conforms to `\(proto)`, by name.")
    lines.append("    static var registered: [any \(proto).Type] { [\(types)] }")
    lines.append("}")
    lines.append("")
}
let text = lines.joined(separator: "\n")
// Rewritten only when it changes, so that an unchanged list compiles nothing again.
if (try? String(contentsOfFile: output, encoding: .utf8)) != text {
    do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
        FileHandle.standardError.write(Data("RegistryGenerator: cannot write \(output): \(error)\n".utf8))
        exit(1)
    }
}
