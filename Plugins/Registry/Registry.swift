import Foundation
import PackagePlugin

/// Lists, for MLPKit's build, every type that conforms to one of the library's registry
/// protocols (a layer Keras knows by its class name, a sampler, a trial storage, a dataset
/// source, a model file format), so that adding one is adding its file: no central list to
/// edit. The generator reads the target's sources; its output is compiled into the target.
@main
struct Registry: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let sources = target.sourceFiles(withSuffix: "swift").map(\.url).sorted { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "Registered.swift")
        return [.buildCommand(displayName: "Listing \(target.name)'s registered types",
                              executable: try context.tool(named: "RegistryGenerator").url,
                              arguments: [output.path] + sources.map(\.path),
                              inputFiles: sources, outputFiles: [output])]
    }
}
