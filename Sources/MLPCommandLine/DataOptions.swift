import ArgumentParser
import Foundation
import MLPKit

extension OptimizerKind: ExpressibleByArgument {
    public static var allValueStrings: [String] { Optimizers.names }
}
extension LabelMode: ExpressibleByArgument {}
extension ColorMode: ExpressibleByArgument {}


/// The data options that mlp-train and mlp-eval share.
public struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A dataset by name (\(DatasetSources.names.joined(separator: ", "))) or by path: Keras's files for those, an .npz of x_train, y_train, x_test, y_test, or a folder of images with one subfolder per class.",
        discussion: "Default: the data the model file or search folder records (found where it was, or beside the file that records it), else CIFAR-100 from Keras's cache (~/.keras/datasets). A dataset named is read from there, and downloaded there when missing.",
        valueName: "path"))
    public var data: String?

    @Option(help: "Labels: fine (100 classes) or coarse (20 superclasses). Default: what the model file or search folder records, else fine.")
    public var labelMode: LabelMode?

    @Option(help: ArgumentHelp("Where to download a dataset named by --data from, when it is not in Keras's cache (also $\(CIFAR100.urlVariable) for CIFAR-100).", valueName: "url"))
    public var downloadURL: String?

    @OptionGroup public var image: ImageOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("For an image folder without train/ and test/ subfolders: the last fraction of each class's files held out (above 0, below 1).", valueName: "fraction"))
    public var holdoutSplit: Double?

    @Option(help: ArgumentHelp("Shuffle the training images before the validation split is taken, so that it draws from every class: an image folder's files in the order image_dataset_from_directory(shuffle=True, seed=N) gives them, other data's samples as numpy.random.RandomState(N).shuffle orders their indices. The holdout images keep their order. Default: what the search or model file records; else 0 for an image folder, and the stored order for other data.", valueName: "n"))
    public var shuffleSeed: UInt32?

    public init() {}

    public func validate() throws {
        if let holdoutSplit, !(holdoutSplit > 0 && holdoutSplit < 1) {
            throw ValidationError("--holdout-split must be above 0 and below 1, got \(holdoutSplit)")
        }
    }

    /// The selection these options make, checked.
    public func selection() throws -> DataSelection {
        var selection = DataSelection(data: data, labelMode: labelMode)
        selection.downloadURL = downloadURL
        selection.imageSize = try image.size()
        selection.colorMode = image.colorMode
        selection.holdoutSplit = holdoutSplit
        selection.shuffleSeed = shuffleSeed
        return selection
    }

    /// Loads the data the options select, the rest from `defaults` (see `DataSelection.load`).
    public func load(splits: Splits = .both, defaults: DataDefaults? = nil, log: (String) -> Void = { print($0) }) throws -> DatasetPair {
        try selection().load(splits: splits, defaults: defaults, log: log)
    }
}
