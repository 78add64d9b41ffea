"""The model bundle: the contract between the trainer (writer) and the service (reader).

A bundle is a folder per model version::

    manifest.json          format version, dataset, method, hyper-parameters, created time,
                           metrics, and the sha256 of every other file
    user_embeddings.npy    float32 [num_users, dim]
    item_embeddings.npy    float32 [num_items, dim]
    user_ids.json          external user id of each row (strings)
    item_ids.json          external item id of each row (strings)
    seen_items.npz         CSR (indptr, indices) of each user's training interactions
    item_popularity.npy    float32 [num_items], training interaction counts (popular fallback)
    user_encoder.onnx      item rows (int64 [n]) -> user vector (float32 [dim]), for cold start
    ranker.onnx            optional (format 2): the ranking stage, see ``RankerSpec``
    ranker_history.npz     optional, with a ranker that reads history features: per behavior
                           ``<behavior>.indptr`` / ``<behavior>.indices``, each user's items

Format 2 adds the optional ranker; a format-1 bundle (no ranker) still loads and serves.

It is written to a temporary folder beside the target and renamed into place when complete,
so a reader never sees half a bundle. ``load_bundle`` verifies every checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 2
SUPPORTED_FORMATS = (1, 2)
MANIFEST = "manifest.json"
USER_EMBEDDINGS = "user_embeddings.npy"
ITEM_EMBEDDINGS = "item_embeddings.npy"
USER_IDS = "user_ids.json"
ITEM_IDS = "item_ids.json"
SEEN_ITEMS = "seen_items.npz"
ITEM_POPULARITY = "item_popularity.npy"
USER_ENCODER = "user_encoder.onnx"
RANKER = "ranker.onnx"
RANKER_HISTORY = "ranker_history.npz"
HISTORY_PREFIX = "history:"
RANKER_ID_ROWS = "bundle_row_plus_one"
REQUIRED_FILES = (
    USER_EMBEDDINGS,
    ITEM_EMBEDDINGS,
    USER_IDS,
    ITEM_IDS,
    SEEN_ITEMS,
    ITEM_POPULARITY,
    USER_ENCODER,
)


class BundleError(Exception):
    """A bundle is missing, incomplete, corrupted or of an unknown format."""


@dataclass(frozen=True)
class RankerSpec:
    """The ranking stage of a two-stage bundle (format 2).

    ``onnx`` maps ``categorical`` int64 [n, 2] (and ``numeric`` float32 [n, 0] when the graph
    declares that input) to one float32 [n] probability output per objective, named
    ``outputs[objective]``. The two categorical columns are the user and the item, each as
    its bundle row + 1 (``RANKER_ID_ROWS``; 0 is the unknown user or item, e.g. a cold-start
    user). ``objectives`` lists the output order; ``target`` is the objective the bundle was
    trained for; ``default_weights`` blends the objectives when a request names none (target
    1, the others 0 unless given).
    """

    onnx: bytes
    model: str
    objectives: list[str]
    target: str
    outputs: dict[str, str] | None = None
    default_weights: dict[str, float] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    # History features: behavior -> (indptr [users + 1], item rows) of the training pairs;
    # the graph's ``numeric`` input is then one column ``history:<behavior>`` per behavior.
    history: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        objectives = [str(name) for name in self.objectives]
        if not objectives or len(set(objectives)) != len(objectives):
            raise BundleError("a ranker needs one or more distinct objective names")
        if self.target not in objectives:
            raise BundleError(f"ranker target {self.target!r} is not one of {objectives}")
        outputs = dict(self.outputs or {name: f"p_{name}" for name in objectives})
        if sorted(outputs) != sorted(objectives):
            raise BundleError("ranker outputs must name exactly one output per objective")
        weights = {name: 0.0 for name in objectives}
        weights[self.target] = 1.0
        weights.update({k: float(v) for k, v in (self.default_weights or {}).items()})
        check_objective_weights(weights, objectives)
        history = [str(name) for name in self.history]
        return {
            "file": RANKER,
            "model": self.model,
            "objectives": objectives,
            "target": self.target,
            "outputs": outputs,
            "default_weights": weights,
            "inputs": {
                "categorical": ["user", "item"],
                "numeric": [HISTORY_PREFIX + name for name in history],
            },
            **({"history": {"file": RANKER_HISTORY, "behaviors": history}} if history else {}),
            "id_rows": RANKER_ID_ROWS,
            "metrics": self.metrics,
            "hyperparameters": self.hyperparameters,
        }


def check_objective_weights(weights: dict[str, float], objectives: list[str]) -> None:
    """Raise ``ValueError`` unless ``weights`` names only known objectives with finite,
    non-negative weights, at least one of them positive."""
    unknown = sorted(set(weights) - set(objectives))
    if unknown:
        raise ValueError(
            f"unknown objective(s) {', '.join(map(repr, unknown))}; valid: {', '.join(objectives)}"
        )
    values = [float(v) for v in weights.values()]
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise ValueError("objective weights must be finite and non-negative")
    if not any(v > 0 for v in values):
        raise ValueError("at least one objective weight must be positive")


@dataclass(frozen=True)
class Bundle:
    """A verified model bundle in memory."""

    path: Path
    manifest: dict[str, Any]
    user_embeddings: np.ndarray
    item_embeddings: np.ndarray
    user_ids: list[str]
    item_ids: list[str]
    seen_indptr: np.ndarray
    seen_indices: np.ndarray
    item_popularity: np.ndarray
    user_encoder_path: Path
    ranker_path: Path | None = None
    user_rows: dict[str, int] = field(repr=False, default_factory=dict)
    item_rows: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])

    @property
    def ranker(self) -> dict[str, Any] | None:
        """The manifest's ranker section (objectives, outputs, default weights), or None for
        a retrieval-only bundle."""
        return self.manifest.get("ranker")

    @property
    def num_users(self) -> int:
        return self.user_embeddings.shape[0]

    @property
    def num_items(self) -> int:
        return self.item_embeddings.shape[0]

    @property
    def dim(self) -> int:
        return self.item_embeddings.shape[1]

    def seen_rows(self, user_row: int) -> np.ndarray:
        """Item rows the user interacted with in training."""
        return self.seen_indices[self.seen_indptr[user_row] : self.seen_indptr[user_row + 1]]


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_bundle(
    target: Path,
    *,
    model_version: str,
    dataset: str,
    method: str,
    hyperparameters: dict[str, Any],
    metrics: dict[str, dict[str, float]],
    user_embeddings: np.ndarray,
    item_embeddings: np.ndarray,
    user_ids: list[str],
    item_ids: list[str],
    seen_indptr: np.ndarray,
    seen_indices: np.ndarray,
    item_popularity: np.ndarray,
    user_encoder_onnx: bytes,
    extra: dict[str, Any] | None = None,
    overwrite: bool = False,
    ranker: RankerSpec | None = None,
) -> Path:
    """Write a complete bundle at ``target`` atomically and return its path.

    With ``ranker``, the bundle carries the ranking stage (``ranker.onnx`` and the manifest's
    ``ranker`` section); without, it is a retrieval-only bundle.

    Refuses to replace an existing folder unless ``overwrite``; with it, the old bundle is
    swapped out only after the new one is complete.
    """
    target = Path(target)
    user_embeddings = np.ascontiguousarray(user_embeddings, dtype=np.float32)
    item_embeddings = np.ascontiguousarray(item_embeddings, dtype=np.float32)
    _check_shapes(
        user_embeddings,
        item_embeddings,
        user_ids,
        item_ids,
        seen_indptr,
        seen_indices,
        item_popularity,
    )
    if target.exists() and not overwrite:
        raise BundleError(f"{target} already exists; choose another path or overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)

    files: dict[str, bytes] = {
        USER_EMBEDDINGS: _npy_bytes(user_embeddings),
        ITEM_EMBEDDINGS: _npy_bytes(item_embeddings),
        USER_IDS: json.dumps([str(i) for i in user_ids]).encode(),
        ITEM_IDS: json.dumps([str(i) for i in item_ids]).encode(),
        SEEN_ITEMS: _npz_bytes(
            indptr=np.asarray(seen_indptr, dtype=np.int64),
            indices=np.asarray(seen_indices, dtype=np.int64),
        ),
        ITEM_POPULARITY: _npy_bytes(np.asarray(item_popularity, dtype=np.float32)),
        USER_ENCODER: user_encoder_onnx,
    }
    ranker_manifest = None
    if ranker is not None:
        try:
            ranker_manifest = ranker.manifest()
        except ValueError as error:
            raise BundleError(f"ranker: {error}") from None
        files[RANKER] = ranker.onnx
        if ranker.history:
            num_users, num_items = user_embeddings.shape[0], item_embeddings.shape[0]
            arrays = {}
            for name, (indptr, indices) in ranker.history.items():
                indptr = np.asarray(indptr, dtype=np.int64)
                indices = np.asarray(indices, dtype=np.int32)
                _check_history(name, indptr, indices, num_users, num_items)
                arrays[f"{name}.indptr"], arrays[f"{name}.indices"] = indptr, indices
            files[RANKER_HISTORY] = _npz_bytes(**arrays)
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_version": model_version,
        "dataset": dataset,
        "method": method,
        "hyperparameters": hyperparameters,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metrics": metrics,
        "num_users": int(user_embeddings.shape[0]),
        "num_items": int(item_embeddings.shape[0]),
        "dim": int(item_embeddings.shape[1]),
        **(extra or {}),
        **({"ranker": ranker_manifest} if ranker_manifest is not None else {}),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }

    return _publish(target, files, manifest)


def _check_history(
    name: str, indptr: np.ndarray, indices: np.ndarray, num_users: int, num_items: int
) -> None:
    if (
        indptr.shape != (num_users + 1,)
        or indptr[0] != 0
        or np.any(np.diff(indptr) < 0)
        or indptr[-1] != len(indices)
        or (len(indices) and (indices.min() < 0 or indices.max() >= num_items))
    ):
        raise BundleError(
            f"ranker history {name!r}: expected a CSR of {num_users} users over {num_items} items"
        )


def load_ranker_history(bundle: Bundle) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The ranker's history pairs (behavior -> indptr, item rows), in the manifest's order;
    empty when the ranker reads none."""
    section = (bundle.ranker or {}).get("history")
    if not section:
        return {}
    try:
        with np.load(bundle.path / RANKER_HISTORY, allow_pickle=False) as saved:
            out = {
                name: (saved[f"{name}.indptr"], saved[f"{name}.indices"])
                for name in section["behaviors"]
            }
    except (OSError, ValueError, KeyError) as error:
        raise BundleError(f"{bundle.path}: cannot read {RANKER_HISTORY}: {error}") from error
    for name, (indptr, indices) in out.items():
        _check_history(name, indptr, indices, bundle.num_users, bundle.num_items)
    return out


def _publish(target: Path, files: dict[str, bytes], manifest: dict[str, Any]) -> Path:
    """Write ``files`` and ``manifest.json`` into a staging folder beside ``target``, then
    rename it into place (swapping out an existing folder only once the new one is whole)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        os.chmod(staging, 0o755)  # mkdtemp makes it private; bundles are read by the service
        for name, data in files.items():
            _write_synced(staging / name, data)
        _write_synced(staging / MANIFEST, json.dumps(manifest, indent=2).encode())
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, retired / "bundle")
            os.rename(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def write_folder_atomically(
    target: Path, files: dict[str, bytes], manifest: dict[str, Any], overwrite: bool = False
) -> Path:
    """Write any other kind of bundle (the ranking bundle, ...) under the same rules as
    ``write_bundle``: the sha256 of every file in ``manifest["files"]``, staged beside
    ``target`` and renamed into place; an existing ``target`` only with ``overwrite``."""
    target = Path(target)
    if MANIFEST in files:
        raise BundleError(f"{MANIFEST} is written from the manifest, not passed as a file")
    if target.exists() and not overwrite:
        raise BundleError(f"{target} already exists; choose another path or overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    manifest = {
        **manifest,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    return _publish(target, files, manifest)


def _check_shapes(
    user_embeddings, item_embeddings, user_ids, item_ids, seen_indptr, seen_indices, item_popularity
) -> None:
    if user_embeddings.ndim != 2 or item_embeddings.ndim != 2:
        raise BundleError("embedding matrices must be 2-D")
    if user_embeddings.shape[1] != item_embeddings.shape[1]:
        raise BundleError("user and item embeddings must have the same dimension")
    if len(user_ids) != user_embeddings.shape[0] or len(item_ids) != item_embeddings.shape[0]:
        raise BundleError("id maps must have one id per embedding row")
    if len(set(map(str, user_ids))) != len(user_ids) or len(set(map(str, item_ids))) != len(
        item_ids
    ):
        raise BundleError("external ids must be unique")
    if len(seen_indptr) != len(user_ids) + 1:
        raise BundleError("seen_indptr must have num_users + 1 entries")
    if len(seen_indices) and (np.min(seen_indices) < 0 or np.max(seen_indices) >= len(item_ids)):
        raise BundleError("seen item rows out of range")
    if len(item_popularity) != len(item_ids):
        raise BundleError("item_popularity must have one entry per item")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the bundle at ``path`` (no checksum verification)."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise BundleError(f"{path} is not a model bundle: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as error:
        raise BundleError(f"{manifest_path} cannot be read: {error}") from error
    if manifest.get("format_version") not in SUPPORTED_FORMATS:
        raise BundleError(
            f"{path}: bundle format {manifest.get('format_version')!r} is not supported "
            f"(this build reads formats {', '.join(map(str, SUPPORTED_FORMATS))})"
        )
    ranker = manifest.get("ranker")
    if ranker is not None:
        if manifest["format_version"] < 2:
            raise BundleError(f"{path}: a format-1 bundle cannot carry a ranker")
        try:
            if ranker.get("file") != RANKER or ranker.get("id_rows") != RANKER_ID_ROWS:
                raise ValueError("unknown ranker file or input mapping")
            check_objective_weights(ranker["default_weights"], list(ranker["objectives"]))
            if sorted(ranker["outputs"]) != sorted(ranker["objectives"]):
                raise ValueError("one output per objective expected")
            if ranker["target"] not in ranker["objectives"]:
                raise ValueError("target is not an objective")
            history = ranker.get("history")
            numeric = list(ranker.get("inputs", {}).get("numeric", []))
            behaviors = list(history["behaviors"]) if history else []
            if history and history.get("file") != RANKER_HISTORY:
                raise ValueError("unknown ranker history file")
            if numeric != [HISTORY_PREFIX + name for name in behaviors]:
                raise ValueError("numeric inputs must be the history behaviors' features")
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise BundleError(
                f"{path}: the manifest's ranker section is invalid: {error}"
            ) from None
    return manifest


def verify_bundle(path: Path) -> dict[str, Any]:
    """Check that every file of the bundle is present and matches its sha256; return manifest."""
    path = Path(path)
    manifest = read_manifest(path)
    checksums = manifest.get("files", {})
    ranker = manifest.get("ranker") or {}
    required = REQUIRED_FILES + ((RANKER,) if ranker else ())
    required += (RANKER_HISTORY,) if ranker.get("history") else ()
    for name in required:
        if name not in checksums:
            raise BundleError(f"{path}: manifest lists no checksum for {name}")
    for name, expected in checksums.items():
        file_path = path / name
        if not file_path.is_file():
            raise BundleError(f"{path}: {name} is missing")
        actual = sha256_file(file_path)
        if actual != expected:
            raise BundleError(
                f"{path}: {name} is corrupted "
                f"(sha256 {actual[:12]}..., expected {expected[:12]}...)"
            )
    return manifest


def load_bundle(path: Path, verify: bool = True) -> Bundle:
    """Read a bundle into memory, verifying checksums first unless ``verify`` is false."""
    path = Path(path)
    manifest = verify_bundle(path) if verify else read_manifest(path)
    try:
        user_embeddings = np.load(path / USER_EMBEDDINGS, allow_pickle=False)
        item_embeddings = np.load(path / ITEM_EMBEDDINGS, allow_pickle=False)
        user_ids = json.loads((path / USER_IDS).read_text())
        item_ids = json.loads((path / ITEM_IDS).read_text())
        with np.load(path / SEEN_ITEMS, allow_pickle=False) as seen:
            seen_indptr, seen_indices = seen["indptr"], seen["indices"]
        item_popularity = np.load(path / ITEM_POPULARITY, allow_pickle=False)
    except (OSError, ValueError, KeyError) as error:
        raise BundleError(f"{path}: cannot read bundle files: {error}") from error
    _check_shapes(
        user_embeddings,
        item_embeddings,
        user_ids,
        item_ids,
        seen_indptr,
        seen_indices,
        item_popularity,
    )
    return Bundle(
        path=path,
        manifest=manifest,
        user_embeddings=user_embeddings,
        item_embeddings=item_embeddings,
        user_ids=user_ids,
        item_ids=item_ids,
        seen_indptr=seen_indptr,
        seen_indices=seen_indices,
        item_popularity=item_popularity,
        user_encoder_path=path / USER_ENCODER,
        ranker_path=path / RANKER if manifest.get("ranker") else None,
        user_rows={uid: row for row, uid in enumerate(user_ids)},
        item_rows={iid: row for row, iid in enumerate(item_ids)},
    )
