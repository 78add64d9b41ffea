"""Reuse an ALS fit across runs of the same data, settings and seed.

Every ``--init als`` run fits ALS before its first epoch: seconds on Office, about five
minutes on Epinions' full catalogue (296k items), the same fit each time for a given seed.
With a cache folder set (``PMTREC_FIT_CACHE_DIR``) the first fit is stored and every later
ALS run or warm start with the same key loads it. The key is a hash of everything the fit
reads: the training and validation interactions (ids, ratings, the positive threshold),
every ALS setting including the seed and the validation monitor, the device kind and the
``implicit`` version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.data import RecDataset
from trainer.training import resolve_device

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

# Bumped when the stored layout or the meaning of a key changes.
_FORMAT = 1
_CACHED_METHODS = ("als",)


def _implicit_version() -> str:
    try:
        from importlib.metadata import version

        return version("implicit")
    except Exception:  # not installed: the fit fails later with its own message
        return "none"


def fit_key(dataset: RecDataset, config: BaselineConfig) -> str:
    """Hex digest naming the fit of ``config`` on ``dataset``."""
    digest = hashlib.sha256()
    settings = config.hyperparameters()
    settings["device"] = resolve_device(config.device).type
    header = {
        "format": _FORMAT,
        "dataset": dataset.name,
        "users": dataset.num_users,
        "items": dataset.num_items,
        "positive_threshold": dataset.positive_threshold,
        "settings": settings,
        "implicit": _implicit_version(),
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for split in (dataset.train, dataset.val):
        for array in (split.users, split.items, split.ratings):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class FitCache:
    """A folder of ALS fits, one ``<key>.npz`` (factors) and ``<key>.json`` (the rest) each."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"FitCache({str(self.folder)!r})"

    @staticmethod
    def caches(config: BaselineConfig) -> bool:
        return config.method in _CACHED_METHODS

    def load(self, dataset: RecDataset, config: BaselineConfig) -> BaselineResult | None:
        """The stored fit for this key, or None (not cached, or unreadable)."""
        if not self.caches(config):
            return None
        key = fit_key(dataset, config)
        arrays_path, facts_path = self._paths(key)
        if not (arrays_path.exists() and facts_path.exists()):
            return None
        try:
            facts = json.loads(facts_path.read_text())
            with np.load(arrays_path) as arrays:
                users, items = arrays["user_vectors"], arrays["item_vectors"]
                fold_in = arrays.get("fold_in_vectors", items)
        except (OSError, ValueError, KeyError) as error:
            log.warning("ignoring unreadable cached fit %s: %s", arrays_path, error)
            return None
        log.info("loaded the %s fit from %s", config.method, arrays_path)
        return BaselineResult(
            config=config,
            user_vectors=users,
            item_vectors=items,
            fold_in_vectors=fold_in,
            val_metrics=facts["val_metrics"],
            best_iteration=facts["best_iteration"],
            history=facts["history"],
            seconds=facts["seconds"],
            device=facts["device"],
            details={**facts["details"], "cached": True},
        )

    def store(self, dataset: RecDataset, result: BaselineResult) -> Path | None:
        """Write ``result`` under its key (atomically); the factors' path, or None if the
        method is not cached."""
        if not self.caches(result.config):
            return None
        key = fit_key(dataset, result.config)
        arrays_path, facts_path = self._paths(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        arrays = {"user_vectors": result.user_vectors, "item_vectors": result.item_vectors}
        if result.fold_in_vectors is not result.item_vectors:
            arrays["fold_in_vectors"] = result.fold_in_vectors
        facts = {
            "settings": result.config.hyperparameters(),
            "val_metrics": result.val_metrics,
            "best_iteration": result.best_iteration,
            "history": result.history,
            "seconds": result.seconds,
            "device": result.device,
            "details": result.details,
        }
        # Written under temporary names and renamed: a reader sees both files or neither
        # (the facts last, and load needs both).
        staging = arrays_path.with_name(f"{key}.{os.getpid()}.tmp.npz")
        np.savez(staging, **arrays)
        os.replace(staging, arrays_path)
        staging = facts_path.with_name(f"{key}.{os.getpid()}.tmp.json")
        staging.write_text(json.dumps(facts, indent=1, default=float))
        os.replace(staging, facts_path)
        log.info("stored the %s fit in %s", result.config.method, arrays_path)
        return arrays_path

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.npz", self.folder / f"{key}.json"


def configured_fit_cache(settings: Settings | None = None) -> FitCache | None:
    """The cache ``PMTREC_FIT_CACHE_DIR`` names (in ``settings``, by default the process's),
    or None when it is unset."""
    from shared.settings import get_settings

    folder = (settings or get_settings()).fit_cache_dir
    return FitCache(folder) if folder else None
