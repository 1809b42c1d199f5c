import Foundation
import Testing
@testable import MLPKit

/// The JSON this toolchain writes: as Python's `json.dumps(value, sort_keys=True,
/// separators=(",", ":"))` writes it, floats keeping their fraction, numbers exact.
@Suite struct JSONTests {
    @Test func spelledAsPythonWritesIt() {
        let object: JSONValue = ["learning_rate": 10.0, "name": "a\"b\n/c", "units": 3, "centered": true, "none": .null,
                                 "epsilon": 1e-7, "list": [0.5, 2, "x"]]
        // json.dumps({...}, sort_keys=True, separators=(",", ":")) in Python 3.11:
        #expect(object.text == #"{"centered":true,"epsilon":1e-07,"learning_rate":10.0,"list":[0.5,2,"x"],"name":"a\"b\n/c","none":null,"units":3}"#)
    }

    /// Every double written reads back to itself.
    @Test func numbersReadBackExactly() throws {
        var generator = SeededGenerator(seed: 9)
        for _ in 0..<2000 {
            let value = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF) * (generator.next() & 1 == 0 ? 1 : -1)
            let text = JSONValue.array([.double(value)]).text
            let read = try JSONDecoder().decode([Double].self, from: Data(text.utf8))
            #expect(read == [value], "\(text)")
        }
    }
}
