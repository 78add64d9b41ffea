"""Export a trained ranker as a ranking bundle: ``ranker.onnx`` (categorical int64
[n, C] and numeric float32 [n, N] -> one float32 [n] probability output per task, named after
the task), ``vocabularies.json`` (raw value -> categorical input row, 0 for unseen values;
numeric mean/std; ``inputs``: the raw field and transform of every input column, read by
shared/ranking_inputs.py ``encode_samples``), and ``manifest.json`` with the schema, metrics
and the sha256 of every file. Written under the same atomic, checksummed rules as the
retrieval bundle (shared/bundle.py ``write_folder_atomically``)."""

from __future__ import annotations

import io
import json
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from shared.bundle import BundleError, sha256_file, write_folder_atomically
from trainer.ranking.models import Ranker
from trainer.ranking.samples import RankingDataset

RANKER_ONNX = "ranker.onnx"
VOCABULARIES = "vocabularies.json"
RANKING_FORMAT = "ranking-1"


class _Probabilities(nn.Module):
    """The ranker with sigmoid outputs, one tensor per task."""

    def __init__(self, ranker: Ranker):
        super().__init__()
        self.ranker = ranker

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor):
        probabilities = torch.sigmoid(self.ranker(categorical, numeric))
        return tuple(probabilities[:, t] for t in range(probabilities.shape[1]))


def ranker_onnx(model: Ranker) -> bytes:
    """The ranker as ONNX bytes (batch size dynamic)."""
    schema = model.schema
    was_training = model.training
    model.eval()
    example = (
        torch.zeros(2, len(schema.categorical), dtype=torch.long),
        torch.zeros(2, len(schema.numeric), dtype=torch.float32),
    )
    outputs = [f"p_{task}" for task in schema.tasks]
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The torch.export-based exporter needs onnxscript, which the product does not
            # install; the TorchScript exporter handles these plain feed-forward graphs.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                _Probabilities(model),
                example,
                buffer,
                input_names=["categorical", "numeric"],
                output_names=outputs,
                dynamic_axes={name: {0: "batch"} for name in ["categorical", "numeric", *outputs]},
                opset_version=17,
                dynamo=False,
            )
    finally:
        model.train(was_training)
    return buffer.getvalue()


def export_ranking_bundle(
    model: Ranker,
    dataset: RankingDataset,
    out: Path,
    metrics: dict[str, dict[str, float]],
    hyperparameters: dict[str, Any],
    overwrite: bool = False,
) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    files = {
        RANKER_ONNX: ranker_onnx(model),
        VOCABULARIES: json.dumps(
            {
                "categorical": dataset.vocabularies,
                "numeric": dataset.numeric_scaling,
                "inputs": dataset.raw_inputs(),
            }
        ).encode(),
    }
    manifest = {
        "format_version": RANKING_FORMAT,
        "kind": "ranker",
        "model_version": f"{dataset.name}-{model.name}-{stamp}",
        "dataset": dataset.name,
        "model": model.name,
        "hyperparameters": hyperparameters,
        "schema": dataset.schema.to_manifest(),
        "outputs": {task: f"p_{task}" for task in dataset.schema.tasks},
        "metrics": metrics,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset_stats": dataset.stats(),
    }
    return write_folder_atomically(Path(out), files, manifest, overwrite=overwrite)


def verify_ranking_bundle(path: Path) -> dict[str, Any]:
    """The manifest of the ranking bundle at ``path`` once every file matches its sha256."""
    path = Path(path)
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise BundleError(f"{path} is not a ranking bundle: {error}") from None
    if manifest.get("format_version") != RANKING_FORMAT:
        raise BundleError(f"{path}: format {manifest.get('format_version')!r} is not a ranker")
    for name, expected in manifest.get("files", {}).items():
        file_path = path / name
        if not file_path.is_file() or sha256_file(file_path) != expected:
            raise BundleError(f"{path}: {name} is missing or corrupted")
    return manifest
