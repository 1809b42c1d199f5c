import Foundation

/// Temperature scaling (Guo et al. 2017): one temperature T > 0 that divides the logits of a
/// softmax classifier, fitted by minimizing the log loss on data the model did not train on. It
/// moves every probability toward (T > 1) or away from (T < 1) uniform and changes no argmax.
public enum TemperatureScaling {
    /// A fitted temperature with the log losses it was judged by.
    public struct Fit: Sendable {
        public var temperature: Double
        /// Mean cross-entropy on the fitting data at T = 1 and at the fitted T.
        public var logLossBefore: Double
        public var logLossAfter: Double
        public var samples: Int
    }

    /// The Dense layer whose outputs are the logits, which the temperature divides: the last
    /// layer, a Dense with softmax; or a linear Dense followed by a softmax Activation, the
    /// other way Keras models end. `logitCount` is how many of the model's layers give the
    /// logits.
    static func logitLayer(of model: Sequential) throws -> (dense: Dense, logitCount: Int, softmaxInside: Bool) {
        let layers = model.layers
        if let dense = layers.last as? Dense, dense.activation == .softmax { return (dense, layers.count, true) }
        if layers.count >= 2, let activation = layers.last as? ActivationLayer, activation.activation == .softmax,
           let dense = layers[layers.count - 2] as? Dense, dense.activation == .linear {
            return (dense, layers.count - 1, false)
        }
        throw MLPError.model("temperature scaling divides the logits of a last Dense layer with softmax (or a linear Dense before a "
            + "softmax Activation); this model's last layer is "
            + (layers.last.map { "\($0.kerasClassName)" + ($0.outputActivation.map { " with \($0.rawValue)" } ?? "") } ?? "absent"))
    }

    /// The model's logits (the inputs of its softmax) for `data`, (samples, classes) row-major:
    /// through the layers before the softmax, the last Dense copied with a linear activation
    /// where the softmax is its own.
    public static func logits(model: Sequential, data: ImageDataset, batchSize: Int = 500) throws -> [Float] {
        let (last, count, softmaxInside) = try logitLayer(of: model)
        var layers = Array(model.layers.prefix(count))
        if softmaxInside {
            let linear = Dense(name: last.name, inputs: last.kernel.shape[0], units: last.units, activation: .linear, useBias: last.bias != nil)
            linear.kernel.value.pointer.update(from: last.kernel.value.pointer, count: last.kernel.count)
            if let bias = last.bias, let copy = linear.bias { copy.value.pointer.update(from: bias.value.pointer, count: bias.count) }
            layers[layers.count - 1] = linear
        }
        let network = Sequential(name: model.name, inputShape: model.inputShape, layers: layers)
        network.compute = model.compute
        try network.checkFits(data)
        return network.predict(data, batchSize: batchSize)
    }

    /// The mean cross-entropy of softmax(β · logits) against `labels`, with its first and second
    /// derivatives in β = 1/T (the loss is convex in β).
    static func loss(_ logits: [Float], labels: [Int], classes: Int, beta: Double) -> (value: Double, slope: Double, curvature: Double) {
        var value = 0.0, slope = 0.0, curvature = 0.0
        var scaled = [Double](repeating: 0, count: classes)
        for (row, label) in labels.enumerated() {
            let z = row * classes
            var top = -Double.infinity
            for c in 0..<classes {
                scaled[c] = beta * Double(logits[z + c])
                top = max(top, scaled[c])
            }
            var total = 0.0, mean = 0.0, square = 0.0
            for c in 0..<classes {
                let e = exp(scaled[c] - top), logit = Double(logits[z + c])
                total += e
                mean += e * logit
                square += e * logit * logit
            }
            mean /= total
            square /= total
            value += top + log(total) - scaled[label]
            slope += mean - Double(logits[z + label])
            curvature += square - mean * mean
        }
        let n = Double(max(labels.count, 1))
        return (value / n, slope / n, curvature / n)
    }

    /// The temperature minimizing the log loss of `logits` (samples, classes) against `labels`:
    /// Newton's method on β = 1/T from β = 1, kept positive by halving a step that would not be.
    public static func fit(logits: [Float], labels: [Int], classes: Int) throws -> Fit {
        guard !labels.isEmpty else { throw MLPError.model("temperature scaling needs at least one labelled sample") }
        guard logits.allSatisfy(\.isFinite) else { throw MLPError.model("the model's logits are not all finite: nothing to calibrate") }
        // The loss falls from β = 0 (every class equally likely) only when the labels' logits
        // stand above the mean logit on average; otherwise it is least at T → ∞.
        guard loss(logits, labels: labels, classes: classes, beta: 0).slope < 0 else {
            throw MLPError.model("the model does no better than chance on the calibration data (its log loss is least with every "
                + "class equally likely): no temperature calibrates it")
        }
        let before = loss(logits, labels: labels, classes: classes, beta: 1)
        var beta = 1.0, current = before
        for _ in 0..<100 {
            guard current.curvature > 0, current.slope != 0 else { break }
            var step = current.slope / current.curvature
            while beta - step <= 0 { step /= 2 }
            var next = loss(logits, labels: labels, classes: classes, beta: beta - step)
            // Newton on a convex function can overshoot far from the minimum: halve until the loss falls.
            var halvings = 0
            while next.value > current.value, halvings < 60 {
                step /= 2
                next = loss(logits, labels: labels, classes: classes, beta: beta - step)
                halvings += 1
            }
            if next.value > current.value { break }
            beta -= step
            current = next
            if abs(step) <= 1e-12 * max(beta, 1) { break }
        }
        return Fit(temperature: 1 / beta, logLossBefore: before.value, logLossAfter: current.value, samples: labels.count)
    }

    /// Divides the kernel and bias of the Dense layer that gives the logits by `temperature`, in
    /// place: the model's softmax outputs become softmax(logits / T).
    public static func apply(_ temperature: Double, to model: Sequential) throws {
        let last = try logitLayer(of: model).dense
        for parameter in last.parameters {
            let values = parameter.value.pointer
            for i in 0..<parameter.count { values[i] = Float(Double(values[i]) / temperature) }
        }
    }
}

extension TemperatureScaling {
    /// Refuses to fit a temperature on the data a model trained on, or on the holdout set it is
    /// judged on: a temperature is fitted on validation data.
    ///
    /// - Parameters:
    ///   - data: the calibration data as read (`checksum` of its bytes, its training split).
    ///   - path: the calibration data's file, named in the error.
    ///   - record: what the model records of its training data and holdout set.
    ///   - model: the model file, named in the error.
    ///   - holdout: the holdout set the model is judged on here.
    public static func checkCalibrationData(_ data: DatasetPair, path: String, record: RunRecord, model: String,
                                            holdout: ImageDataset) throws {
        if let trained = record.datasetSHA256, data.checksum == trained {
            throw MLPError.format(path: path, problem: "is the data \(model) was trained on; calibrate on data "
                + "it did not train on (without --calibration-data, on the validation split it records)")
        }
        let fitting = data.train
        if fitting.count > 0, fitting.contentDigest == holdout.contentDigest || fitting.contentDigest == record.holdoutSHA256 {
            throw MLPError.format(path: path, problem: "holds the holdout set itself; calibrate on validation data")
        }
    }
}
