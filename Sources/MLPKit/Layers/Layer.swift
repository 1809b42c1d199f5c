/// One weight of a layer (Keras's "kernel", "bias", "gamma", "moving_mean", ...).
public final class Parameter {
    /// The Keras weight name, without the layer path: "kernel", "bias", ...
    public let name: String
    /// Keras's shape, e.g. (inputs, units) for a Dense kernel.
    public let shape: [Int]
    /// The weights, row-major in Keras's shape.
    public let value: FloatBuffer
    /// dL/dvalue for the latest batch; overwritten, not accumulated, by each backward pass.
    public let gradient: FloatBuffer
    /// false for statistics the optimizer never updates (BatchNormalization's moving mean and variance).
    public let trainable: Bool

    public init(name: String, shape: [Int], trainable: Bool = true) {
        self.name = name
        self.shape = shape
        self.trainable = trainable
        let count = shape.reduce(1, *)
        value = FloatBuffer(count: count)
        gradient = FloatBuffer(count: trainable ? count : 0)
    }

    public var count: Int { value.count }
}

/// A layer of a Sequential model: an explicit forward and backward pass over row-major
/// (rows, features) batches held in buffers the layer owns.
///
/// The pointer that `forward` returns stays valid until the layer's next `forward`; `backward`
/// relies on the input pointer of the latest `forward` still holding that input.
public protocol Layer: AnyObject {
    var name: String { get set }
    /// Keras's dtype policy, recorded in the layer's config; only Dense computes differently under it.
    var dtypePolicy: DTypePolicy { get set }
    /// The class name Keras uses in a model config.
    var kerasClassName: String { get }
    /// Shape of one sample's input and output, without the batch dimension.
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    var parameters: [Parameter] { get }
    /// Whether a backward pass exists; inference-only layers refuse to train.
    var supportsTraining: Bool { get }

    /// Sizes the buffers for batches of up to `rows` samples: the forward pass's, and with
    /// `training` the backward pass's too; call before the batch loop.
    func reserve(rows: Int, training: Bool)
    /// Sets how the layer's numeric work runs (cores, shortcuts); layers without heavy work
    /// ignore it.
    func configure(compute: ComputeOptions)
    func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float>
    /// Takes dL/doutput (which it may overwrite), fills each parameter's gradient and returns
    /// dL/dinput when `needInputGradient`.
    func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    /// The layer's Keras config, in the spelling both Keras 2 and Keras 3 load.
    func kerasConfig() -> [String: JSONValue]
    /// Appends the layer's inference to `graph`, reading the value named `input`; returns the
    /// name of the value it produces.
    func export(to graph: inout ONNXGraph, input: String) throws -> String

    /// Draws the layer's initial weights from `generator` as Keras's initializers draw them;
    /// layers without random weights take nothing from it.
    func initialize(using generator: inout SeededGenerator)
    /// Starts the layer's own random stream (a Dropout's masks) from `generator`, at the
    /// stream's position for training step `step`; layers without one take nothing.
    func seedStream(using generator: inout SeededGenerator, step: Int)
    /// The layer's weight regularizers by their Keras config key ("kernel_regularizer").
    var regularizers: [String: Regularizer] { get }
    /// The penalty the regularizers add to the loss for the current weights (Keras's `layer.losses`).
    var penalty: Double { get }
    /// What the model line shows for the layer: its output width by default, "rate 0.2" for Dropout.
    var summarySetting: String { get }
    /// The oneDNN implementations the layer's products have used so far (none for most layers).
    var productImplementations: Set<String> { get }
    /// The activation the layer ends in, if it ends in one.
    var outputActivation: Activation? { get }
}

/// A layer that ends in an activation and takes the gradient of its pre-activation directly,
/// so that a loss can fuse its gradient with the activation's (softmax with cross-entropy).
public protocol ActivatedLayer: Layer {
    var activation: Activation { get }
    /// Backward from dL/dz, z being the pre-activation.
    func backward(preActivationGradient dz: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
}

extension Layer {
    public var supportsTraining: Bool { true }
    public func configure(compute: ComputeOptions) {}
    public func initialize(using generator: inout SeededGenerator) {}
    public func seedStream(using generator: inout SeededGenerator, step: Int) {}
    public var regularizers: [String: Regularizer] { [:] }
    public var penalty: Double { 0 }
    public var summarySetting: String { outputShape.map(String.init).joined(separator: "x") }
    public var productImplementations: Set<String> { [] }
    /// The activation the layer ends in, if it ends in one.
    public var outputActivation: Activation? { (self as? any ActivatedLayer)?.activation }
    /// Values per sample in and out: the shapes' products.
    public var inputWidth: Int { inputShape.reduce(1, *) }
    public var outputWidth: Int { outputShape.reduce(1, *) }
    /// Weights of every parameter, trainable or not (Keras's `count_params()`).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    /// Weights the optimizer updates.
    public var trainableParameterCount: Int {
        parameters.filter(\.trainable).reduce(0) { $0 + $1.count }
    }

    /// The config keys every Keras layer carries.
    func baseConfig() -> [String: JSONValue] {
        // The policy's name: the spelling both Keras 3 and tf_keras load with that policy.
        ["name": .string(name), "trainable": true, "dtype": .string(dtypePolicy.rawValue)]
    }
}
