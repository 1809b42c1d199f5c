"""Writes the architectures in Models/ as Keras 3 itself writes them (`model.to_json()`), so that
mlp-train reads the configs Keras users have.

- overfit.json: Dense(1024, relu) → Dense(512, relu) → Dense(100, softmax), 3.7 million
  parameters: wide enough to overfit CIFAR-100's 40,000 training images within 20 epochs
  (the notebook's step 2: watch validation loss turn while training loss keeps falling).
- regularized.json: Dense(256, relu, L2(1e-4)) → BatchNormalization → Dropout(0.3) →
  Dense(100, softmax): the same idea held back by the usual means.

baseline.json, the notebook's Dense(128, relu) → Dense(100, softmax), was written by mlp-train.

Run with the versions in Tests/requirements.txt:  python Models/make_models.py
"""
import json, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    import keras
    L = keras.layers
    models = {
        "overfit.json": lambda: keras.Sequential([keras.Input((3072,)), L.Dense(1024, activation="relu"),
                                                  L.Dense(512, activation="relu"), L.Dense(100, activation="softmax")]),
        "regularized.json": lambda: keras.Sequential([
            keras.Input((3072,)), L.Dense(256, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-4)),
            L.BatchNormalization(), L.Dropout(0.3), L.Dense(100, activation="softmax")]),
    }
    for name, build in models.items():
        keras.backend.clear_session()  # layer names from "dense", as in a fresh notebook
        model = build()
        with open(os.path.join(HERE, name), "w") as f:
            f.write(json.dumps(json.loads(model.to_json()), indent=2) + "\n")


if __name__ == "__main__":
    main()
