"""One model version ready to serve: bundle arrays, FAISS index, ONNX user encoder and, for a
two-stage bundle, the ONNX ranker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from service.encoder import OnnxUserEncoder
from service.index import ItemIndex, load_item_index
from service.ranker import OnnxRanker
from shared.bundle import Bundle, BundleError, load_bundle, load_ranker_history
from shared.settings import Settings


@dataclass(frozen=True)
class LoadedModel:
    """Immutable once built, so requests can keep using it while another version is swapped in."""

    bundle: Bundle
    index: ItemIndex
    encoder: OnnxUserEncoder
    popular_rows: np.ndarray  # item rows by training popularity, most popular first
    loaded_at: datetime
    ranker: OnnxRanker | None = None  # the ranking stage (format-2 bundles that carry one)
    ranker_candidates: int = 200  # retrieval candidates per query the ranker re-ranks

    @property
    def version(self) -> str:
        return self.bundle.version

    @classmethod
    def load(cls, path: Path, settings: Settings) -> LoadedModel:
        """Verify and load the bundle at ``path``; raises ``BundleError`` if it cannot serve."""
        bundle = load_bundle(Path(path), verify=True)
        for name, matrix in (("user", bundle.user_embeddings), ("item", bundle.item_embeddings)):
            if not np.isfinite(matrix).all():
                raise BundleError(f"{path}: {name} embeddings contain NaN or infinite values")
        if bundle.num_items == 0:
            raise BundleError(f"{path}: the bundle has no items")
        try:
            encoder = OnnxUserEncoder(bundle.user_encoder_path, threads=settings.onnx_threads)
            probe = encoder.encode(np.zeros(1, dtype=np.int64))
        except Exception as error:  # onnxruntime raises its own exception types
            raise BundleError(f"{path}: the user encoder cannot run: {error}") from error
        if probe.shape != (bundle.dim,):
            raise BundleError(
                f"{path}: the user encoder returns shape {probe.shape}, expected ({bundle.dim},)"
            )
        ranker = _load_ranker(bundle, settings) if bundle.ranker_path is not None else None
        index = load_item_index(bundle, settings)  # the bundle's stored index, or built
        # Stable sort: equally popular items keep catalog order, so the fallback is deterministic.
        popular_rows = np.argsort(-bundle.item_popularity, kind="stable").astype(np.int64)
        return cls(
            bundle=bundle,
            index=index,
            encoder=encoder,
            popular_rows=popular_rows,
            loaded_at=datetime.now(timezone.utc),
            ranker=ranker,
            ranker_candidates=settings.ranker_candidates,
        )


def _load_ranker(bundle: Bundle, settings: Settings) -> OnnxRanker:
    """The bundle's ranker, once it scores the last user and item (the ends of its input
    range) and the unknown user and item (row 0)."""
    try:
        ranker = OnnxRanker(
            bundle.ranker_path,
            bundle.ranker,
            threads=settings.onnx_threads,
            history=load_ranker_history(bundle),
            num_items=bundle.num_items,
        )
        probe = ranker.probabilities(
            np.array([bundle.num_users, 0], dtype=np.int64),
            np.array([bundle.num_items, 0], dtype=np.int64),
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise BundleError(f"{bundle.path}: the ranker cannot run: {error}") from error
    if probe.shape != (2, len(ranker.objectives)):
        raise BundleError(
            f"{bundle.path}: the ranker returns shape {probe.shape}, "
            f"expected (2, {len(ranker.objectives)})"
        )
    if not (np.isfinite(probe).all() and (probe >= 0).all() and (probe <= 1).all()):
        raise BundleError(f"{bundle.path}: the ranker's outputs are not probabilities in [0, 1]")
    return ranker
