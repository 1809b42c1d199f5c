import Foundation

/// Where `mlp-train` and `mlp-eval` find their data: a path given by `--data`, the built-in
/// synthetic set, or CIFAR-100 where Keras keeps it, downloading it when it is missing.
public enum DataSource {
    /// Where Keras downloads CIFAR-100 from.
    public static let officialURL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    /// The MD5 of the official archive, as Keras checks it.
    public static let officialMD5 = "eb9058c3a382ffc7106e4002c42a8d85"
    /// Overrides the download address (also `--download-url`).
    public static let urlVariable = "MLP_CIFAR100_URL"
    /// Overrides the expected MD5, for a mirror that serves a different archive.
    public static let md5Variable = "MLP_CIFAR100_MD5"

    /// Keras's dataset folder: `$KERAS_HOME/datasets`, else `~/.keras/datasets`.
    public static var kerasDatasetsFolder: String {
        let env = ProcessInfo.processInfo.environment
        let home = env["KERAS_HOME"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.keras")
        return home + "/datasets"
    }

    /// Loads `data` ("synthetic", a path, or nil for Keras's cache with download).
    /// `splits` says which splits to read (see `CIFAR100.load`).
    public static func load(_ data: String?, labelMode: LabelMode, splits: Splits = .both, downloadURL: String? = nil,
                            log: (String) -> Void) throws -> DatasetPair {
        if data == "synthetic" {
            return SyntheticCIFAR.make(labelMode: labelMode, trainCount: splits.train ? 50_000 : 0, testCount: splits.test ? 10_000 : 0)
        }
        if let data { return try CIFAR100.load(path: data, labelMode: labelMode, splits: splits) }
        let folder = kerasDatasetsFolder
        let fm = FileManager.default
        for candidate in ["cifar-100-python", "cifar-100-python/cifar-100-python", "cifar-100-python_extracted/cifar-100-python"] {
            let path = folder + "/" + candidate
            if fm.fileExists(atPath: path + "/train") { return try CIFAR100.load(path: path, labelMode: labelMode, splits: splits) }
        }
        let archive = folder + "/cifar-100-python.tar.gz"
        if !fm.fileExists(atPath: archive) {
            let address = downloadURL ?? ProcessInfo.processInfo.environment[urlVariable] ?? officialURL
            guard let url = URL(string: address) else { throw MLPError.usage("download URL '\(address)' is not a URL") }
            log("Downloading CIFAR-100 from \(address) to \(archive)")
            do {
                try Download.fetch(url: url, to: archive, md5: ProcessInfo.processInfo.environment[md5Variable] ?? officialMD5) { received, total in
                    ProgressPrinter.shared.update(downloadProgressLine(received: received, total: total), force: received == total)
                }
                ProgressPrinter.shared.finish()
            } catch {
                ProgressPrinter.shared.finish()
                var reason = "\(error)"
                if case MLPError.download(_, let problem) = error { reason = problem }
                throw MLPError.download(url: address, problem: "no CIFAR-100 found in \(folder) and the download failed (\(reason))")
            }
        }
        // Like Keras, keep the archive extracted beside it: later runs read the files directly.
        let extracted = folder + "/cifar-100-python"
        if (try? CIFAR100.extract(archive: archive, into: extracted)) != nil {
            return try CIFAR100.load(path: extracted, labelMode: labelMode, splits: splits)
        }
        return try CIFAR100.load(path: archive, labelMode: labelMode, splits: splits)
    }
}
