"""ONNX Runtime's Sigmoid on recorded inputs, for Tests/MLPKitTests/Formats/Int8Tests.swift: 2,000
float32 inputs (uniform over [-20, 20], normal around 0, and the edges ±18, ±0, NaN left out)
and ONNX Runtime's CPU outputs, each as the hex of its float32 bits, so that the test compares
bit for bit.

Run with the versions in Tests/requirements.txt:  python Fixtures/quantization/make_logistic.py
"""
import json, os
import numpy as np
import onnxruntime
from onnx import helper, TensorProto

OUT = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-20, 20, 1000), rng.normal(0, 2, 992), [18, -18, 17.999998, -18.000002, 0, -0.0, 1e-30, 40]])
    x = x.astype(np.float32).reshape(-1, 1)
    graph = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"])], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    y = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    bits = lambda a: [format(int(v), "08x") for v in a.reshape(-1).view(np.uint32)]
    with open(os.path.join(OUT, "logistic.json"), "w") as f:
        json.dump({"onnxruntime": onnxruntime.__version__, "inputs": bits(x), "outputs": bits(y)}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
