/// A Keras `Sequential` model: an input shape and a list of layers; the parameters are the
/// layers' parameters in order, as Keras lists its weights.
public final class Sequential {
    public var name: String
    /// One sample's input shape, e.g. [3072] or [32, 32, 3].
    public let inputShape: [Int]
    /// The layers in order; the input is not a layer, as in Keras 3's `model.layers`.
    public let layers: [Layer]

    // Used only when the last layer does not end in a softmax that the loss gradient can be
    // fused with.
    private let lossGradient = FloatBuffer(count: 0)
    // The largest batch the buffers hold, for inference and for training.
    private var forwardRows = 0
    private var trainingRows = 0

    /// How the model's numeric work runs; every layer follows it.
    public var compute = ComputeOptions() {
        didSet { for layer in layers { layer.configure(compute: compute) } }
    }

    public init(name: String = "sequential", inputShape: [Int], layers: [Layer]) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        for layer in layers { layer.configure(compute: compute) }
    }

    /// Keras's `set_global_policy` before the model is built: every layer takes `policy`,
    /// except the output layer, which stays float32 as Keras's mixed-precision guide keeps it
    /// (its softmax in float32).
    public func setGlobalPolicy(_ policy: DTypePolicy) {
        for (index, layer) in layers.enumerated() { layer.dtypePolicy = index == layers.count - 1 ? .float32 : policy }
    }

    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    /// Weights of every parameter, trainable or not: Keras's `count_params()`.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    /// The parameters the optimizer updates, in layer order.
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }
    /// Values per sample the model takes (3,072) and gives (the classes).
    public var inputWidth: Int { inputShape.reduce(1, *) }
    public var outputWidth: Int { layers.last?.outputWidth ?? inputWidth }

    /// Whether the model ends in a softmax, so that its outputs are probabilities.
    public var endsInSoftmax: Bool { layers.last?.outputActivation == .softmax }

    /// Sizes every layer's buffers for batches of up to `rows`, for inference or (with
    /// `training`) for training too; cheap when already large enough.
    public func reserve(rows: Int, training: Bool = true) {
        guard rows > (training ? trainingRows : forwardRows) else { return }
        for layer in layers { layer.reserve(rows: rows, training: training) }
        forwardRows = max(forwardRows, rows)
        if training {
            lossGradient.reserve(rows * outputWidth)
            trainingRows = rows
        }
    }

    /// x is (rows, inputWidth); returns (rows, outputWidth), valid until the next forward.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        reserve(rows: rows, training: training)
        var activations = x
        let profile = compute.profile
        for layer in layers {
            let mark = profile?.start()
            activations = layer.forward(activations, rows: rows, training: training)
            profile?.add(.activations, since: mark)
        }
        return activations
    }

    /// The weight penalties of the layers' regularizers, which Keras adds to the loss it reports.
    public var regularizationPenalty: Double { layers.reduce(0) { $0 + $1.penalty } }

    /// Whether any layer has a regularizer.
    public var isRegularized: Bool { layers.contains { !$0.regularizers.isEmpty } }

    /// Forward, categorical cross-entropy and backward for one batch, leaving each parameter's
    /// gradient of the batch-mean loss (its regularization penalty included) in
    /// `Parameter.gradient`. A loss that is not finite stops it after the forward pass: there
    /// is no backward pass, and the model is as the batch found it.
    ///
    /// - Parameters:
    ///   - finished: called with each layer once its backward pass is done, last layer first:
    ///     its gradients are final and its weights no longer needed by this step, so an
    ///     optimizer may update them at once, while they are still in the cache.
    /// - Returns: the summed loss over the batch (each sample's with the penalty of the weights
    ///   before this step, as Keras reports it) and the count of correct argmax predictions.
    public func computeGradients(_ x: UnsafePointer<Float>, labels: UnsafePointer<Int32>, rows: Int,
                                 finished: ((Layer) -> Void)? = nil) -> (loss: Double, correct: Int)
    {
        let classes = outputWidth, profile = compute.profile
        let output = forward(x, rows: rows, training: true)
        var mark = profile?.start()
        var result = CategoricalCrossentropy.loss(probabilities: output, labels: labels, rows: rows, classes: classes)
        if isRegularized { result.loss += regularizationPenalty * Double(rows) }
        guard result.loss.isFinite else { return result }
        var gradient: UnsafeMutablePointer<Float>?
        var next = layers.count - 1
        if let last = layers.last as? any ActivatedLayer, last.activation == .softmax {
            // The output buffer is the last layer's own and is not read again until next forward.
            let dz = UnsafeMutablePointer(mutating: output)
            CategoricalCrossentropy.softmaxGradient(probabilities: dz, labels: labels, rows: rows, classes: classes)
            profile?.add(.loss, since: mark)
            mark = profile?.start()
            gradient = last.backward(preActivationGradient: dz, rows: rows, needInputGradient: layers.count > 1)
            profile?.add(.activations, since: mark)
            finished?(last)
            next -= 1
        } else {
            CategoricalCrossentropy.probabilityGradient(
                probabilities: output, labels: labels, rows: rows, classes: classes, into: lossGradient.pointer)
            profile?.add(.loss, since: mark)
            gradient = lossGradient.pointer
        }
        while next >= 0, let g = gradient {
            mark = profile?.start()
            gradient = layers[next].backward(g, rows: rows, needInputGradient: next > 0)
            profile?.add(.activations, since: mark)
            finished?(layers[next])
            next -= 1
        }
        return result
    }

    /// Predicts `count` samples that `fill` writes batch by batch into a (rows, inputWidth)
    /// buffer, in batches of `batchSize`; returns (count, outputWidth) row-major.
    public func predict(count: Int, batchSize: Int, fill: (_ start: Int, _ rows: Int, UnsafeMutablePointer<Float>) -> Void)
        -> [Float]
    {
        let width = outputWidth
        var result = [Float](repeating: 0, count: count * width)
        let input = FloatBuffer(count: min(batchSize, max(count, 1)) * inputWidth)
        result.withUnsafeMutableBufferPointer { out in
            var start = 0
            while start < count {
                let rows = min(batchSize, count - start)
                fill(start, rows, input.pointer)
                let y = forward(input.pointer, rows: rows, training: false)
                (out.baseAddress! + start * width).update(from: y, count: rows * width)
                start += rows
            }
        }
        return result
    }

    /// Predicts a (count, inputWidth) row-major matrix of floats.
    public func predict(_ x: [Float], batchSize: Int = 128) -> [Float] {
        let width = inputWidth
        return x.withUnsafeBufferPointer { xs in
            predict(count: x.count / max(width, 1), batchSize: batchSize) { start, rows, buffer in
                buffer.update(from: xs.baseAddress! + start * width, count: rows * width)
            }
        }
    }
}
