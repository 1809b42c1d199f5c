import Testing
@testable import MLPKit

/// numpy's legacy `np.random.RandomState(seed).shuffle(list(range(n)))`, as numpy 2.4.6 printed it.
@Suite struct PythonRandomTests {
    static let cases: [(UInt32, [Int])] = [
        (0, [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]),
        (1337, [6, 3, 0, 4, 5, 2, 1, 9, 8, 7]),
        (123, [4, 0, 7, 5, 8, 3, 1, 6, 9, 2]),
    ]

    @Test(arguments: cases)
    func shufflesAsNumPy(_ seed: UInt32, _ expected: [Int]) {
        var generator = PythonRandom(numpySeed: seed)
        var values = Array(0..<10)
        generator.numpyShuffle(&values)
        #expect(values == expected)
    }

    /// A longer list, where the bounded draws reject more often: numpy's first ten and its
    /// Σ i·x[i] over all 1,000.
    @Test func shufflesALongListAsNumPy() {
        var generator = PythonRandom(numpySeed: 7)
        var values = Array(0..<1000)
        generator.numpyShuffle(&values)
        #expect(Array(values.prefix(10)) == [778, 334, 271, 802, 216, 408, 812, 94, 487, 170])
        #expect(values.enumerated().reduce(0) { $0 + $1.offset * $1.element } == 246_202_311)
    }
}
