/// Python's `random.Random(seed)` for a whole-number seed: the Mersenne Twister (MT19937)
/// seeded by `init_by_array` over the seed's 32-bit words, and `random()`'s 53-bit doubles; and
/// numpy's legacy `RandomState(seed)` shuffle, on the same generator.
///
/// Only what KerasTuner's samplers use, so that a search with a given seed draws exactly the
/// numbers KerasTuner's would.
public struct PythonRandom: Sendable {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    /// The generator of `random.Random(seed)`.
    public init(seed: UInt64) {
        // Python seeds with the absolute value's 32-bit words, least significant first
        // (and one zero word for 0).
        var key: [UInt32] = [UInt32(truncatingIfNeeded: seed)]
        if seed >> 32 != 0 { key.append(UInt32(seed >> 32)) }
        self.init(key: key)
    }

    /// The generator of `random.Random(seed + offset)`, where the sum may pass 2^64 (as
    /// KerasTuner's seed counter may).
    public init(seed: UInt64, offset: UInt64) {
        let (sum, carried) = seed.addingReportingOverflow(offset)
        guard carried else { self.init(seed: sum); return }
        self.init(key: [UInt32(truncatingIfNeeded: sum), UInt32(sum >> 32), 1])
    }

    /// The generator of numpy's legacy `np.random.RandomState(seed)` for a 32-bit seed: the
    /// same Mersenne Twister, seeded by `init_genrand(seed)` alone.
    public init(numpySeed seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    /// `RandomState.shuffle(x)` for a list or a 1-D array: from the last element down, each
    /// swapped with one drawn from those before it (and itself) by numpy's legacy bounded draw,
    /// masked 32-bit outputs rejected until one is in range.
    public mutating func numpyShuffle<T>(_ elements: inout [T]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, through: 1, by: -1) {
            var mask = UInt32(i)
            for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
            var j: UInt32
            repeat { j = nextUInt32() & mask } while j > UInt32(i)
            elements.swapAt(i, Int(j))
        }
    }

    private init(key: [UInt32]) {
        // init_genrand(19650218)
        state[0] = 19_650_218
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
        // init_by_array(key)
        var i = 1, j = 0
        for _ in 0..<max(624, key.count) {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1
            j += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<623 {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= 624 { state[0] = state[623]; i = 1 }
        }
        state[0] = 0x8000_0000
    }

    /// The next 32-bit output (genrand_uint32).
    public mutating func nextUInt32() -> UInt32 {
        if index >= 624 {
            for k in 0..<624 {
                let y = (state[k] & 0x8000_0000) | (state[(k + 1) % 624] & 0x7FFF_FFFF)
                state[k] = state[(k + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `random()`: a double in [0, 1) from 53 random bits.
    public mutating func random() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }
}
