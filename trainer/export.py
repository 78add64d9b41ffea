"""Export a trained model as a bundle (see shared/bundle.py for the format)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared.bundle import RankerSpec, write_bundle
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
    ranker: RankerSpec | None = None,
) -> Path:
    """Write the trained encoder's final vectors and serving data as a bundle at ``out``.

    ``training_inputs`` records what joined the dataset's files (the feedback cut-off), so
    that an evaluation rebuilds exactly the data the model was trained on. With ``ranker``
    (trainer.twostage.ranker_spec) the bundle also carries the ranking stage."""
    users, items = (
        t.detach().cpu().numpy().astype(np.float32) for t in result.encoder.final_vectors()
    )
    config = result.config
    extra: dict[str, Any] = {
        "encoder": config.encoder,
        "tasks": result.task_names,
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "train_seconds": round(result.seconds, 2),
        "device": result.device,
    }
    return export_vectors(
        users,
        items,
        dataset,
        out,
        metrics,
        method=config.method,
        hyperparameters=config.hyperparameters(),
        extra=extra,
        overwrite=overwrite,
        model_version=model_version,
        load_options=load_options,
        training_inputs=training_inputs,
        ranker=ranker,
    )


def export_vectors(
    users: np.ndarray,
    items: np.ndarray,
    dataset: RecDataset,
    out: Path,
    metrics: dict[str, dict[str, float]],
    *,
    method: str,
    hyperparameters: dict[str, Any],
    extra: dict[str, Any],
    fold_in_vectors: np.ndarray | None = None,
    overwrite: bool = False,
    model_version: str | None = None,
    load_options: LoadOptions | None = None,
    training_inputs: dict[str, Any] | None = None,
    ranker: RankerSpec | None = None,
) -> Path:
    """Write a bundle of user and item vectors whose inner products are the model's scores
    (a trained encoder's, or a baseline's such as ALS or EASE).

    The cold-start encoder averages ``fold_in_vectors`` (default: the item vectors) over a
    history; a method whose user vector is another linear map of the history passes that map's
    rows (EASE: rows of its item-item weights).
    """
    scale = float(np.median(np.linalg.norm(users, axis=1)))
    seen_indptr, seen_indices = dataset.seen_csr()
    popularity = np.bincount(dataset.train.items, minlength=dataset.num_items)
    fold_in = items if fold_in_vectors is None else fold_in_vectors
    encoder_kind = "normalised mean of item vectors"
    if fold_in_vectors is not None:
        encoder_kind = "normalised mean of the method's fold-in rows"
    extra = {
        **extra,
        "load_options": (load_options or LoadOptions()).to_manifest(),
        "training_inputs": training_inputs or {"feedback": {"included": False}},
        "evaluation": "full ranking over all items, the user's training positives excluded",
        "user_encoder": {"kind": encoder_kind, "scale": scale},
        "dataset_stats": dataset.stats(),
    }
    return write_bundle(
        Path(out),
        model_version=model_version or new_model_version(dataset.name, method),
        dataset=dataset.name,
        method=method,
        hyperparameters=hyperparameters,
        metrics=metrics,
        user_embeddings=users,
        item_embeddings=items,
        user_ids=dataset.user_ids,
        item_ids=dataset.item_ids,
        seen_indptr=seen_indptr,
        seen_indices=seen_indices,
        item_popularity=popularity.astype(np.float32),
        user_encoder_onnx=build_user_encoder(fold_in, scale),
        extra=extra,
        overwrite=overwrite,
        ranker=ranker,
    )
