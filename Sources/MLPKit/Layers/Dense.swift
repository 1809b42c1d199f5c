import Foundation

/// Keras's `Dense`: `a = activation(x · kernel + bias)`.
///
/// x is (rows, inputs), kernel is (inputs, units), bias is (units), a is (rows, units).
public final class Dense: RegisteredLayer, ActivatedLayer {
    public var name: String
    /// Under `mixedBFloat16` the products take the input, the kernel and dL/dz rounded to
    /// bfloat16 and sum in float32; the bias, the activation and every gradient stay float32,
    /// and backward computes every unit's products (no packing of inactive units).
    public var dtypePolicy = DTypePolicy.float32
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    /// (inputs, units), row-major, as Keras stores it.
    public let kernel: Parameter
    /// (units), nil when `useBias` is false.
    public let bias: Parameter?
    /// Keras's `kernel_regularizer`: a penalty on the kernel added to the loss.
    public let kernelRegularizer: Regularizer?
    public let inputShape: [Int]
    public var outputShape: [Int] { [units] }
    public static let kerasClassName = "Dense"
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    // z is the pre-activation; a aliases z when backward needs only a.
    private let z = FloatBuffer(count: 0)
    private let a: FloatBuffer
    private let inputGradient = FloatBuffer(count: 0)
    private var lastInput: UnsafePointer<Float>?
    // Backward's compact copies when some units are inactive for the whole batch: their
    // indices, dz's active columns, the kernel gradient's (and the kernel's) active columns.
    private let activeUnits: UnsafeMutablePointer<Int32>
    private let packedGradient = FloatBuffer(count: 0)
    private let packedKernel = FloatBuffer(count: 0)
    // Which kernel-gradient columns may be nonzero, and those of them inactive now ("stale"):
    // the packed pass writes only the active columns and clears the stale ones, instead of
    // rewriting every column.
    private let mayBeNonzero: UnsafeMutablePointer<Bool>
    private let staleUnits: UnsafeMutablePointer<Int32>
    // Under mixed_bfloat16: the latest input, the kernel and dL/dz rounded to bfloat16, sized
    // by the first batch that needs them (the policy may be set after `reserve`).
    private let inputHalf = BFloat16Buffer(count: 0)
    private let kernelHalf = BFloat16Buffer(count: 0)
    private let gradientHalf = BFloat16Buffer(count: 0)

    /// Cores and engine for the products, and whether backward skips the products of units
    /// that are inactive (a ReLU at or below zero) for every sample of a batch.
    private var compute = ComputeOptions()
    private var products = MatrixProducts(engine: .preferred)

    public init(name: String, inputs: Int, units: Int, activation: Activation = .linear, useBias: Bool = true,
                kernelRegularizer: Regularizer? = nil) {
        self.name = name
        self.kernelRegularizer = kernelRegularizer
        self.units = units
        self.activation = activation
        self.useBias = useBias
        inputShape = [inputs]
        kernel = Parameter(name: "kernel", shape: [inputs, units])
        bias = useBias ? Parameter(name: "bias", shape: [units]) : nil
        a = activation.needsPreActivation ? FloatBuffer(count: 0) : z
        activeUnits = .allocate(capacity: units)
        staleUnits = .allocate(capacity: units)
        mayBeNonzero = .allocate(capacity: units)
        mayBeNonzero.initialize(repeating: true, count: units)
    }

    deinit {
        activeUnits.deallocate()
        staleUnits.deallocate()
        mayBeNonzero.deallocate()
    }

    public static func plan(_ config: LayerConfig, input: [Int]) throws -> LayerPlan {
        let units = try self.units(config)
        let (weights, overflow) = input.reduce(1, *).multipliedReportingOverflow(by: units + 1)
        guard !overflow else { throw config.error("is too large") }
        return LayerPlan(output: [units], parameters: weights)
    }

    public static func make(_ config: LayerConfig, input: [Int]) throws -> Layer {
        let units = try self.units(config)
        guard input.count == 1 else { throw config.error("gets input shape \(input), only flat inputs are supported (add Flatten)") }
        try config.refuse(["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"])
        return Dense(name: config.name, inputs: input[0], units: units, activation: try config.activation(),
                     useBias: config.bool("use_bias", default: true), kernelRegularizer: try config.regularizer("kernel_regularizer"))
    }

    private static func units(_ config: LayerConfig) throws -> Int {
        guard let units = config.values["units"]?.int, units > 0, units <= 1 << 24 else {
            throw config.error("has 'units' \(config.values["units"]?.text ?? "missing"), not 1 to \(1 << 24)")
        }
        return units
    }

    /// Keras's default initialisation: glorot-uniform kernel, zero bias.
    public func initialize(using generator: inout SeededGenerator) {
        let limit = (6 / Float(inputShape[0] + units)).squareRoot()
        let w = kernel.value.pointer
        for i in 0..<kernel.count { w[i] = (generator.nextUnitFloat() * 2 - 1) * limit }
        bias?.value.fill(0)
    }

    public func configure(compute: ComputeOptions) {
        self.compute = compute
        if products.engine != compute.engine { products = MatrixProducts(engine: compute.engine) }
        products.profile = compute.profile
    }

    /// The oneDNN implementations this layer's products have used so far, e.g. "brg:avx512_core".
    public var productImplementations: Set<String> { products.implementations }

    public var regularizers: [String: Regularizer] { kernelRegularizer.map { ["kernel_regularizer": $0] } ?? [:] }

    public func reserve(rows: Int, training: Bool) {
        z.reserve(rows * units)
        a.reserve(rows * units)
        guard training else { return }
        inputGradient.reserve(rows * inputShape[0])
        if activation == .relu {
            packedGradient.reserve(rows * units)
            packedKernel.reserve(inputShape[0] * units)
        }
    }

    public func forward(_ input: UnsafePointer<Float>, rows: Int, training: Bool) -> UnsafePointer<Float> {
        let inputs = inputShape[0]
        lastInput = input
        // The bias is added by the product where the engine can, or by the activation's pass.
        let bias = self.bias?.value.pointer, fused = products.fusesBias, mixed = dtypePolicy == .mixedBFloat16
        var operands = (x: UnsafeRawPointer(input), kernel: UnsafeRawPointer(kernel.value.pointer))
        if mixed {
            inputHalf.reserve(rows * inputs)
            kernelHalf.reserve(kernel.count)
            inputHalf.round(input, count: rows * inputs)
            kernelHalf.round(kernel.value.pointer, count: kernel.count)
            operands = (UnsafeRawPointer(inputHalf.pointer), UnsafeRawPointer(kernelHalf.pointer))
        }
        products.multiply(m: rows, n: units, k: inputs, a: operands.x, lda: inputs, b: operands.kernel, ldb: units,
                          c: z.pointer, ldc: units, bias: fused ? bias : nil, bfloat16: mixed, threads: compute.threads)
        activation.forward(z.pointer, a.pointer, rows: rows, width: units, bias: fused ? nil : bias, threads: compute.threads)
        return UnsafePointer(a.pointer)
    }

    public func backward(_ outputGradient: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        activation.backward(outputGradient, z: z.pointer, a: a.pointer, rows: rows, width: units)
        return backward(preActivationGradient: outputGradient, rows: rows, needInputGradient: needInputGradient)
    }

    /// Backward from dL/dz, for a loss that fuses its gradient with this layer's activation.
    public func backward(preActivationGradient dz: UnsafeMutablePointer<Float>, rows: Int, needInputGradient: Bool)
        -> UnsafeMutablePointer<Float>?
    {
        guard let x = lastInput else { preconditionFailure("Dense.backward before forward") }
        let inputs = inputShape[0]
        if let bias {
            let db = bias.gradient.pointer
            db.update(repeating: 0, count: units)
            for r in 0..<rows {
                let row = dz + r * units
                for j in 0..<units { db[j] += row[j] }
            }
        }
        let mixed = dtypePolicy == .mixedBFloat16
        if activation == .relu, compute.skipsInactiveUnits, !mixed {
            let (active, stale) = collectActiveUnits(dz, rows: rows)
            if active < units * 3 / 4 {
                let inputGradient = backwardPacked(dz, x: x, rows: rows, active: active, stale: stale,
                                                   needInputGradient: needInputGradient)
                addPenaltyGradient()
                return inputGradient
            }
        }
        // Under mixed_bfloat16 the products take dz rounded to bfloat16, and the input and the
        // kernel as the forward pass rounded them.
        var operands = (x: UnsafeRawPointer(x), dz: UnsafeRawPointer(dz), kernel: UnsafeRawPointer(kernel.value.pointer))
        if mixed {
            gradientHalf.reserve(rows * units)
            gradientHalf.round(dz, count: rows * units)
            operands = (UnsafeRawPointer(inputHalf.pointer), UnsafeRawPointer(gradientHalf.pointer), UnsafeRawPointer(kernelHalf.pointer))
        }
        // dkernel (inputs, units) = xᵀ (inputs, rows) · dz (rows, units)
        products.multiply(transposeA: true, m: inputs, n: units, k: rows, a: operands.x, lda: inputs, b: operands.dz, ldb: units,
                          c: kernel.gradient.pointer, ldc: units, bfloat16: mixed, threads: compute.threads)
        mayBeNonzero.update(repeating: true, count: units)
        addPenaltyGradient()
        guard needInputGradient else { return nil }
        // dx (rows, inputs) = dz (rows, units) · kernelᵀ (units, inputs)
        products.multiply(transposeB: true, m: rows, n: inputs, k: units, a: operands.dz, lda: units, b: operands.kernel, ldb: units,
                          c: inputGradient.pointer, ldc: inputs, bfloat16: mixed, threads: compute.threads)
        return inputGradient.pointer
    }

    /// Adds the regularizer's gradient to the whole kernel gradient. Its columns for inactive
    /// units are then no longer zero, so the next packed pass must clear them all.
    private func addPenaltyGradient() {
        guard let kernelRegularizer else { return }
        kernelRegularizer.addGradient(kernel.value.pointer, into: kernel.gradient.pointer, count: kernel.count)
        mayBeNonzero.update(repeating: true, count: units)
    }

    /// The regularizer's penalty on the current kernel (0 without one).
    public var penalty: Double { kernelRegularizer?.penalty(kernel.value.pointer, count: kernel.count) ?? 0 }

    /// Lists in `activeUnits` the units whose dz column is not all zero, and in `staleUnits`
    /// the inactive ones whose kernel-gradient column may still hold an earlier pass's values;
    /// returns both counts and leaves `mayBeNonzero` true for exactly the active units.
    ///
    /// A ReLU unit at or below zero for every sample passes back no gradient, so its column of
    /// dz is zero. A nonzero bias gradient (dz's column sum) marks a unit active at once; the
    /// others are checked row by row.
    private func collectActiveUnits(_ dz: UnsafePointer<Float>, rows: Int) -> (active: Int, stale: Int) {
        let db = bias?.gradient.pointer
        var active = 0, stale = 0
        for j in 0..<units {
            var isActive = db.map { $0[j] != 0 } ?? false
            var r = 0
            while !isActive, r < rows {
                isActive = dz[r * units + j] != 0
                r += 1
            }
            if isActive {
                activeUnits[active] = Int32(j)
                active += 1
            } else if mayBeNonzero[j] {
                staleUnits[stale] = Int32(j)
                stale += 1
            }
            mayBeNonzero[j] = isActive
        }
        return (active, stale)
    }

    /// Backward through only the `active` units listed in `activeUnits`: dz's active columns are
    /// packed side by side, the products run at that width, and the kernel gradient's `stale`
    /// columns (in `staleUnits`) are cleared; its other inactive columns are zero already.
    private func backwardPacked(_ dz: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows: Int, active: Int,
                                stale: Int, needInputGradient: Bool) -> UnsafeMutablePointer<Float>? {
        let inputs = inputShape[0], units = self.units
        let packed = packedGradient.pointer, packedK = packedKernel.pointer, list = activeUnits, staleList = staleUnits
        for r in 0..<rows {
            let from = dz + r * units, to = packed + r * active
            for t in 0..<active { to[t] = from[Int(list[t])] }
        }
        // dkernel's active columns (inputs, active) = xᵀ (inputs, rows) · packed dz (rows, active).
        // Each core takes a share of the inputs: it packs only its share of x, and scatters
        // the rows it computed while they are still in its cache.
        let gradient = kernel.gradient.pointer
        parallelRanges(inputs, pieces: min(compute.threads, inputs / 64), alignment: 16) { range in
            if active > 0 {
                products.multiply(transposeA: true, m: range.count, n: active, k: rows, a: x + range.lowerBound, lda: inputs,
                                  b: packed, ldb: active, c: packedK + range.lowerBound * active, ldc: active,
                                  reusedShape: false, threads: compute.threads)
            }
            for i in range {
                let row = gradient + i * units, from = packedK + i * active
                for t in 0..<stale { row[Int(staleList[t])] = 0 }
                for t in 0..<active { row[Int(list[t])] = from[t] }
            }
        }
        guard needInputGradient else { return nil }
        // dx (rows, inputs) = packed dz (rows, active) · active kernel columnsᵀ (active, inputs)
        let w = kernel.value.pointer
        for i in 0..<inputs {
            let from = w + i * units, to = packedK + i * active
            for t in 0..<active { to[t] = from[Int(list[t])] }
        }
        if active == 0 {
            inputGradient.pointer.update(repeating: 0, count: rows * inputs)
        } else {
            products.multiply(transposeB: true, m: rows, n: inputs, k: active, a: packed, lda: active,
                              b: packedK, ldb: active, c: inputGradient.pointer, ldc: inputs, reusedShape: false,
                              threads: compute.threads)
        }
        return inputGradient.pointer
    }

    public func kerasConfig() -> [String: JSONValue] {
        var config = baseConfig()
        config["units"] = .int(units)
        config["activation"] = .string(activation.rawValue)
        config["use_bias"] = .bool(useBias)
        config["kernel_initializer"] = ["class_name": "GlorotUniform", "config": ["seed": .null]]
        config["bias_initializer"] = ["class_name": "Zeros", "config": [:]]
        for key in ["bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint"] {
            config[key] = .null
        }
        config["kernel_regularizer"] = kernelRegularizer?.kerasObject() ?? .null
        return config
    }

    /// Gemm (MatMul and Add for inputs of more than one axis), then the activation.
    public func export(to graph: inout ONNXGraph, input: String) throws -> String {
        let weights = graph.constant("\(name)/kernel", kernel.value.array, shape: kernel.shape)
        var output: String
        if inputShape.count == 1 {
            var inputs = [input, weights]
            if let bias { inputs.append(graph.constant("\(name)/bias", bias.value.array, shape: bias.shape)) }
            output = graph.add("Gemm", inputs, stem: "\(name)/gemm")
        } else {
            output = graph.add("MatMul", [input, weights], stem: "\(name)/matmul")
            if let bias { output = graph.add("Add", [output, graph.constant("\(name)/bias", bias.value.array, shape: bias.shape)], stem: "\(name)/add") }
        }
        return activation.export(to: &graph, input: output, stem: "\(name)/\(activation.rawValue)")
    }
}
