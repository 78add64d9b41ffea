"""The cold-start user encoder stored in every bundle as ONNX.

It folds a list of item rows into a user vector: the mean of the items' vectors, rescaled to
``scale`` (the median norm of the trained user vectors, so scores stay on the scale of known
users). Input ``item_rows``: int64 [n] (n >= 1); output ``user_vector``: float32 [dim].

The builder needs the ``onnx`` package (trainer side); running the model needs only
onnxruntime (service side). ``fold_in`` is the numpy reference of the same function.
"""

from __future__ import annotations

import numpy as np

INPUT_NAME = "item_rows"
OUTPUT_NAME = "user_vector"
OPSET = 17
_EPSILON = 1e-12


def fold_in(item_vectors: np.ndarray, rows: np.ndarray, scale: float) -> np.ndarray:
    """numpy reference: ``scale * mean(V[rows]) / ||mean(V[rows])||``."""
    mean = item_vectors[np.asarray(rows, dtype=np.int64)].mean(axis=0)
    return (scale * mean / max(float(np.linalg.norm(mean)), _EPSILON)).astype(np.float32)


def build_user_encoder(item_vectors: np.ndarray, scale: float) -> bytes:
    """Serialised ONNX model of ``fold_in`` with the item vectors baked in."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    item_vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
    dim = item_vectors.shape[1]
    initializers = [
        numpy_helper.from_array(item_vectors, "item_vectors"),
        numpy_helper.from_array(np.array(scale, dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array(_EPSILON, dtype=np.float32), "epsilon"),
    ]
    nodes = [
        helper.make_node("Gather", ["item_vectors", INPUT_NAME], ["gathered"], axis=0),
        helper.make_node("ReduceMean", ["gathered"], ["mean"], axes=[0], keepdims=0),
        helper.make_node("ReduceL2", ["mean"], ["norm"], axes=[0], keepdims=0),
        helper.make_node("Max", ["norm", "epsilon"], ["safe_norm"]),
        helper.make_node("Div", ["mean", "safe_norm"], ["direction"]),
        helper.make_node("Mul", ["direction", "scale"], [OUTPUT_NAME]),
    ]
    graph = helper.make_graph(
        nodes,
        "user_fold_in",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [dim])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(model)
    return model.SerializeToString()
