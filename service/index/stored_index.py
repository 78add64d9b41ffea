"""The item index stored in the bundle folder, so that a replica does not rebuild HNSW.

Building an HNSW graph over a large catalogue takes seconds to minutes on every activation
of every replica; reading it back takes milliseconds. The trainer does not depend on FAISS,
so the service stores the index itself, on the first load of a bundle::

    item_index.faiss    faiss.serialize_index of the HNSW index
    item_index.json     side manifest: format, index kind and build parameters, the sha256 of
                        the bundle's item_embeddings.npy it was built from, the FAISS version,
                        and the sha256 of item_index.faiss

Both are written to temporary files in the folder and renamed into place (the index first),
so a reader sees a whole pair or none. The bundle's own manifest is not touched: the bundle
still verifies as the trainer wrote it, and bundles without a stored index load as before.

A stored index is used only when its side manifest matches what this process would build
(same kind and parameters, same item vectors, same FAISS version) and the index file matches
its sha256; anything else (missing, stale, corrupted, unreadable) is rebuilt and rewritten,
never served. A bundle folder the service may not write to is served with a built index,
with a warning; ``python -m service.index build BUNDLE`` stores the index ahead of time.
Exact indexes (small catalogues) are rebuilt every time: that is as fast as reading them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from service.index.item_index import ItemIndex, choose_index_kind
from shared.bundle import ITEM_EMBEDDINGS, Bundle, sha256_file
from shared.settings import Settings

log = logging.getLogger("service.index")

INDEX_FILE = "item_index.faiss"
INDEX_MANIFEST = "item_index.json"
INDEX_FORMAT = 1


def load_item_index(bundle: Bundle, settings: Settings, *, store: bool = True) -> ItemIndex:
    """The bundle's item index: the stored one when it is valid, else built (and stored)."""
    kind = choose_index_kind(bundle.num_items, settings.index_kind, settings.exact_index_max_items)
    if kind == "exact":
        return _build(bundle, settings, kind)
    expected = _expected_manifest(bundle, settings, kind)
    stored = _read_stored(bundle.path, expected, bundle, settings)
    if stored is not None:
        log.info("%s: using the stored %s index", bundle.path, kind)
        return stored
    index = _build(bundle, settings, kind)
    if store:
        _store(bundle.path, index, expected)
    return index


def _build(bundle: Bundle, settings: Settings, kind: str) -> ItemIndex:
    return ItemIndex(
        bundle.item_embeddings,
        kind,  # type: ignore[arg-type]
        hnsw_m=settings.hnsw_m,
        hnsw_ef_search=settings.hnsw_ef_search,
        hnsw_ef_construction=settings.hnsw_ef_construction,
    )


def _expected_manifest(bundle: Bundle, settings: Settings, kind: str) -> dict[str, Any]:
    """What the side manifest of a usable stored index says (all but its own checksum)."""
    embeddings_sha = bundle.manifest.get("files", {}).get(ITEM_EMBEDDINGS)
    if embeddings_sha is None:  # not a verified bundle: checksum the vectors themselves
        embeddings_sha = sha256_file(bundle.path / ITEM_EMBEDDINGS)
    return {
        "format": INDEX_FORMAT,
        "kind": kind,
        "hnsw_m": settings.hnsw_m,
        "hnsw_ef_construction": settings.hnsw_ef_construction,
        "item_embeddings_sha256": embeddings_sha,
        "num_items": bundle.num_items,
        "dim": bundle.dim,
        "faiss_version": faiss.__version__,
    }


def _read_stored(
    folder: Path, expected: dict[str, Any], bundle: Bundle, settings: Settings
) -> ItemIndex | None:
    manifest_path, index_path = folder / INDEX_MANIFEST, folder / INDEX_FILE
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        checksum = manifest.pop("sha256")
        if manifest != expected:
            log.info("%s: the stored index was built differently; rebuilding it", folder)
            return None
        data = index_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != checksum:
            log.warning("%s: %s is corrupted (sha256 mismatch); rebuilding it", folder, INDEX_FILE)
            return None
        prebuilt = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        return ItemIndex(
            bundle.item_embeddings,
            expected["kind"],
            hnsw_ef_search=settings.hnsw_ef_search,
            prebuilt=prebuilt,
        )
    except Exception as error:  # unreadable JSON, a FAISS read error, a shape mismatch
        log.warning("%s: the stored index cannot be used (%s); rebuilding it", folder, error)
        return None


def _store(folder: Path, index: ItemIndex, expected: dict[str, Any]) -> None:
    data = index.serialize()
    manifest = {**expected, "sha256": hashlib.sha256(data).hexdigest()}
    try:
        _write_atomically(folder / INDEX_FILE, data)
        _write_atomically(folder / INDEX_MANIFEST, json.dumps(manifest, indent=2).encode())
    except OSError as error:
        log.warning(
            "%s: cannot store the item index (%s); every load will rebuild it "
            "(python -m service.index build stores it ahead of time)",
            folder,
            error,
        )
        return
    log.info("%s: stored the %s index (%d bytes)", folder, index.kind, len(data))


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
