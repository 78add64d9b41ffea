"""Export a trained model as a bundle (see shared/bundle.py for the format)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared.bundle import write_bundle
from shared.user_encoder import build_user_encoder
from trainer.data import LoadOptions, RecDataset
from trainer.training import TrainResult


def fold_in_user(item_vectors: torch.Tensor, rows: torch.Tensor, scale: float) -> torch.Tensor:
    """The cold-start user vector: the items' mean vector rescaled to ``scale``.

    The torch form of what the bundle's ONNX user encoder computes.
    """
    mean = item_vectors[rows].mean(dim=0)
    return scale * mean / torch.linalg.vector_norm(mean).clamp(min=1e-12)


def new_model_version(dataset: str, method: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{dataset}-{method}-{stamp}"


def export_bundle(
    result: TrainResult,
    dataset: RecDataset,
    out: Path,
    metrics: dict[str, dict[str, float]],
    overwrite: bool = False,
    model_version: str | None = None,
    load_options: LoadOptions | None = None,
    training_inputs: dict[str, Any] | None = None,
) -> Path:
    """Write the trained encoder's final vectors and serving data as a bundle at ``out``.

    ``training_inputs`` records what joined the dataset's files (the feedback cut-off), so
    that an evaluation rebuilds exactly the data the model was trained on."""
    users, items = (
        t.detach().cpu().numpy().astype(np.float32) for t in result.encoder.final_vectors()
    )
    scale = float(np.median(np.linalg.norm(users, axis=1)))
    seen_indptr, seen_indices = dataset.seen_csr()
    popularity = np.bincount(dataset.train.items, minlength=dataset.num_items)
    config = result.config
    extra: dict[str, Any] = {
        "encoder": config.encoder,
        "tasks": result.task_names,
        "load_options": (load_options or LoadOptions()).to_manifest(),
        "training_inputs": training_inputs or {"feedback": {"included": False}},
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "train_seconds": round(result.seconds, 2),
        "device": result.device,
        "evaluation": "full ranking over all items, the user's training positives excluded",
        "user_encoder": {"kind": "normalised mean of item vectors", "scale": scale},
        "dataset_stats": dataset.stats(),
    }
    return write_bundle(
        Path(out),
        model_version=model_version or new_model_version(dataset.name, config.method),
        dataset=dataset.name,
        method=config.method,
        hyperparameters=config.hyperparameters(),
        metrics=metrics,
        user_embeddings=users,
        item_embeddings=items,
        user_ids=dataset.user_ids,
        item_ids=dataset.item_ids,
        seen_indptr=seen_indptr,
        seen_indices=seen_indices,
        item_popularity=popularity.astype(np.float32),
        user_encoder_onnx=build_user_encoder(items, scale),
        extra=extra,
        overwrite=overwrite,
    )
