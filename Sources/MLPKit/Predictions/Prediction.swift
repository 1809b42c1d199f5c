import Foundation

/// A model meeting a dataset: whether it fits the data, and its predictions for every sample.
extension Sequential {
    /// Checks that the model takes `data`'s images and predicts its classes.
    public func checkFits(_ data: ImageDataset) throws {
        guard inputWidth == data.featureCount else {
            throw MLPError.model("the model takes \(inputWidth) input values per sample, the images have \(data.featureCount)")
        }
        guard outputWidth == data.classCount else {
            throw MLPError.model("the model has \(outputWidth) outputs but the data has \(data.classCount) classes")
        }
    }

    /// The model's outputs for every sample of `data`, (count, outputWidth) row-major, in
    /// inference mode.
    public func predict(_ data: ImageDataset, batchSize: Int = 128) -> [Float] {
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: batchSize)
        defer { labels.deallocate() }
        return predict(count: data.count, batchSize: batchSize) { start, rows, buffer in
            data.fill(start..<(start + rows), into: buffer, labels: labels, threads: compute.threads)
        }
    }
}
