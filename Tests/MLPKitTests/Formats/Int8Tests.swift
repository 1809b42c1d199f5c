import Foundation
import CEngine
import Testing
@testable import MLPKit

/// The int8 arithmetic of `mlp-export --quantize int8` and of int8 ONNX files, against hand
/// calculations (the interchange check compares whole files with ONNX Runtime's quantize_static
/// and ONNX Runtime's outputs).
@Suite struct Int8Tests {
    /// ONNX Runtime's `compute_scale_zp` for uint8 activations: the range widened to hold 0,
    /// scale (max − min) / 255, zero point round(−min / scale).
    @Test func activationParameters() {
        let a = UInt8Quantization(min: -1, max: 3)
        #expect(a.scale == Float(4.0 / 255) && a.zeroPoint == 64)  // 255 / 4 = 63.75
        let b = UInt8Quantization(min: 0.5, max: 2)
        #expect(b.scale == Float(2.0 / 255) && b.zeroPoint == 0)
        let c = UInt8Quantization(min: -3, max: -1)
        #expect(c.scale == Float(3.0 / 255) && c.zeroPoint == 255)
        let d = UInt8Quantization(min: 0, max: 0)
        #expect(d.scale == 1 && d.zeroPoint == 0)
        #expect(a.quantize(0) == 64 && a.quantize(3) == 255 && a.quantize(-2) == 0 && a.quantize(.nan) == 0)
        #expect(a.dequantize(65) == Float(4.0 / 255))
    }

    /// Kernels per output channel, symmetric over ±127; biases int32 at inputScale · scale.
    @Test func weightsPerChannel() {
        // (inputs 2, units 2): columns [1, −2.54] and [0.5, 0.125].
        let w = Int8Weights(kernel: [1, 0.5, -2.54, 0.125], inputs: 2, units: 2, inputScale: 0.01, bias: [0.1, -0.03])
        #expect(w.scales == [Float(2.54 / 127), Float(0.5 / 127)])
        #expect(w.values == [50, 127, -127, 32])  // 0.125 / (0.5 / 127) = 31.75
        #expect(w.biasScales == [Float(0.01) * Float(2.54 / 127), Float(0.01) * Float(0.5 / 127)])
        // 0.1 / 0.0002 = 500; −0.03 / (0.01 · 0.5 / 127) = −762.
        #expect(w.bias == [500, -762])
    }

    /// A bias that int32 cannot hold at inputScale · scale raises that channel's scale to
    /// 1.0001 · 2|b| / (2³² − 2) / inputScale, as ONNX Runtime's quantizer does.
    @Test func largeBiasRaisesTheScale() throws {
        let w = Int8Weights(kernel: [0.001, 0.001], inputs: 2, units: 1, inputScale: 0.001, bias: [1_000_000])
        let expected = 1.0001 * 2_000_000 / 4_294_967_294.0 / 0.001  // 0.465714…
        #expect(abs(Double(w.scales[0]) - expected) <= 1e-6 * expected)
        #expect(w.values == [0, 0])
        let bias = try #require(w.bias?.first)
        #expect(bias > 2_000_000_000 && bias < Int32.max)
    }

    /// The u8 · s8 products sum exactly, with the input's zero point subtracted and the int32
    /// bias added: against sums in Int. (Run with ONEDNN_MAX_CPU_ISA=AVX2, oneDNN's own product
    /// saturates, which is why the loops stand in for it there.)
    @Test func integerProductsAreExact() {
        let (rows, inputs, units) = (5, 300, 7)
        var generator = SeededGenerator(seed: 9)
        let weights = (0..<(inputs * units)).map { _ in Int8(truncatingIfNeeded: Int(generator.next() % 255) - 127) }
        let bias = (0..<units).map { _ in Int32(truncatingIfNeeded: Int(generator.next() % 20_001) - 10_000) }
        let quantized = (0..<(rows * inputs)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 256) }
        // The product this CPU uses (oneDNN's with VNNI), and the integer loops used without it.
        var sums = [Int32](repeating: 0, count: rows * units), loops = sums
        let status = integerProduct(m: rows, n: units, k: inputs, a: quantized, aZero: 13, b: weights, c: &sums, columnOffsets: bias)
        #expect(status == 0)
        mlp_gemm_u8s8s32_exact(rows, units, inputs, quantized, inputs, 13, weights, units, &loops, units, bias)
        for r in 0..<rows {
            for j in 0..<units {
                var sum = Int(bias[j])
                for k in 0..<inputs { sum += (Int(quantized[r * inputs + k]) - 13) * Int(weights[k * units + j]) }
                #expect(Int(sums[r * units + j]) == sum && Int(loops[r * units + j]) == sum, "row \(r), unit \(j)")
            }
        }
    }

    /// The int8 Dense requantizes each exact sum by round_half_even(sum · inputScale ·
    /// weightScale / outputScale) + zero point, clamped to uint8, and hands on (q − zero) · scale.
    @Test func denseRequantizes() {
        // One input of value 0.5 (q = 1 at scale 0.5, zero point 0), weights 1 … 6 at scale 0.25,
        // bias 0: sums 1 … 6; multiplier 0.5 · 0.25 / 0.25 = 0.5 gives 0.5, 1, 1.5, 2, 2.5, 3,
        // rounded half to even 0, 1, 2, 2, 2, 3, plus zero point 3, read back as (q − 3) · 0.25.
        let layer = QuantizedDense(name: "q", input: UInt8Quantization(scale: 0.5, zeroPoint: 0), weights: [1, 2, 3, 4, 5, 6],
                                   inputs: 1, units: 6, weightScales: [Float](repeating: 0.25, count: 6), bias: [0, 0, 0, 0, 0, 0],
                                   output: UInt8Quantization(scale: 0.25, zeroPoint: 3))
        let x: [Float] = [0.5]
        let y = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: layer.forward($0.baseAddress!, rows: 1, training: false), count: 6)) }
        #expect(y == [0, 1, 2, 2, 2, 3].map { Float($0) * 0.25 })
    }

    /// The int8 Add of a uint8 constant (ONNX Runtime's QLinearAdd): input scale 0.1, zero
    /// point 10; constant scale 0.05, zero point 0; output scale 0.2, zero point 5.
    /// The ratios are 0.5 and 0.25 and the fixed part 5 − (0.25 · 0 + 0.5 · 10) = 0, so
    /// q = round_half_even(0.5 · a + 0.25 · b): a = 30, 31, 29, 255 with b = 40 give 25, 25.5 →
    /// 26, 24.5 → 24, and 137.5 → 138; a = 0 with b = 0 gives 0, clamped there.
    @Test func addRequantizes() {
        let layer = QuantizedAdd(name: "a", input: UInt8Quantization(scale: 0.1, zeroPoint: 10), constant: [40, 40, 40, 40, 0],
                                 constantQuantization: UInt8Quantization(scale: 0.05, zeroPoint: 0),
                                 output: UInt8Quantization(scale: 0.2, zeroPoint: 5))
        // The inputs as the layer before hands them on: (a − 10) · 0.1.
        let x: [Float] = [30, 31, 29, 255, 0].map { (Float($0) - 10) * 0.1 }
        let y = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: layer.forward($0.baseAddress!, rows: 1, training: false), count: 5)) }
        #expect(y == [25, 26, 24, 138, 0].map { (Float($0) - 5) * 0.2 }, "\(y)")
    }

    /// The logistic as ONNX Runtime computes it, bit for bit, on 2,000 recorded inputs and its
    /// outputs (`Fixtures/quantization/make_logistic.py`): what an int8 model's Sigmoid between
    /// its QDQ pairs computes. The exact function rounded to float32 differs on most of them.
    @Test func logisticIsOnnxRuntimes() throws {
        let fixture = try jsonFixture("quantization/logistic.json")
        func floats(_ key: String) throws -> [Float] {
            try #require(fixture[key] as? [String]).map { Float(bitPattern: try #require(UInt32($0, radix: 16))) }
        }
        let (x, expected) = (try floats("inputs"), try floats("outputs"))
        try #require(x.count == 2000 && expected.count == 2000)
        let ours = x.map(RuntimeLogistic.value)
        #expect(zip(ours, expected).filter { $0.bitPattern != $1.bitPattern }.count == 0)
        let exact = x.map { Float(1 / (1 + exp(-Double($0)))) }
        #expect(zip(exact, expected).filter { $0.bitPattern != $1.bitPattern }.count > 500)
    }
}
