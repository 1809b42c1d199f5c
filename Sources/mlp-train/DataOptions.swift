import ArgumentParser
import Foundation
import MLPKit

/// The data options that mlp-train and mlp-eval share.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "CIFAR-100 as cifar-100-python.tar.gz, cifar-100-binary.tar.gz or their extracted folders; or 'synthetic' for the built-in generated set.",
        discussion: "Default: Keras's cache (~/.keras/datasets), downloading the archive there when it is missing.",
        valueName: "path"))
    var data: String?

    @Option(help: "Labels: fine (100 classes) or coarse (20 superclasses).")
    var labelMode = LabelMode.fine

    @Option(help: "Where to download CIFAR-100 from when it is not found (also $\(DataSource.urlVariable)).")
    var downloadURL: String?

    func load() throws -> DatasetPair {
        try DataSource.load(data, labelMode: labelMode, downloadURL: downloadURL) { print($0) }
    }
}
