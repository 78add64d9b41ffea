"""The HNSW item index is stored in the bundle folder and read back instead of rebuilt."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from service.index.__main__ import main as index_cli
from service.index.stored_index import INDEX_FILE, INDEX_MANIFEST, load_item_index
from service.registry import LoadedModel
from shared.bundle import load_bundle, verify_bundle
from tests.service.conftest import make_settings, write_random_bundle

HNSW = {"index_kind": "hnsw", "hnsw_m": 8, "hnsw_ef_construction": 20}


@pytest.fixture
def bundle(tmp_path):
    return write_random_bundle(tmp_path / "bundle", "stored-index-v1", seed=5, num_items=300)


def _settings(tmp_path, **overrides):
    return make_settings("sqlite://", tmp_path, **{**HNSW, **overrides})


def _top(model: LoadedModel) -> list[list[int]]:
    return model.index.search(model.bundle.user_embeddings[:5], 10).rows


def test_second_load_reads_the_stored_index(bundle, tmp_path):
    settings = _settings(tmp_path)
    first = LoadedModel.load(bundle, settings)
    assert first.index.kind == "hnsw" and first.index.source == "built"
    assert (bundle / INDEX_FILE).is_file() and (bundle / INDEX_MANIFEST).is_file()
    verify_bundle(bundle)  # the bundle's own checksums still hold

    second = LoadedModel.load(bundle, settings)
    assert second.index.source == "stored"
    assert _top(second) == _top(first)


def test_a_corrupted_stored_index_is_rebuilt_never_served(bundle, tmp_path):
    settings = _settings(tmp_path)
    LoadedModel.load(bundle, settings)
    data = bytearray((bundle / INDEX_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle / INDEX_FILE).write_bytes(bytes(data))

    rebuilt = LoadedModel.load(bundle, settings)
    assert rebuilt.index.source == "built"
    assert LoadedModel.load(bundle, settings).index.source == "stored"  # rewritten, valid

    (bundle / INDEX_FILE).write_bytes(b"not an index")
    assert LoadedModel.load(bundle, settings).index.source == "built"


def test_a_stale_stored_index_is_rebuilt(bundle, tmp_path):
    LoadedModel.load(bundle, _settings(tmp_path))
    # Other build parameters: the stored graph is not what this process would serve.
    assert LoadedModel.load(bundle, _settings(tmp_path, hnsw_m=12)).index.source == "built"
    manifest = json.loads((bundle / INDEX_MANIFEST).read_text())
    assert manifest["hnsw_m"] == 12
    # Retrained vectors in the same folder: the stored index belongs to the old ones.
    write_random_bundle(bundle, "stored-index-v2", seed=6, num_items=300)
    assert not (bundle / INDEX_FILE).exists()  # a rewritten bundle starts without one
    assert LoadedModel.load(bundle, _settings(tmp_path)).index.source == "built"


def test_a_stored_index_of_other_vectors_is_not_used(bundle, tmp_path):
    settings = _settings(tmp_path)
    other = write_random_bundle(tmp_path / "other", "stored-index-other", seed=9, num_items=300)
    LoadedModel.load(other, settings)
    for name in (INDEX_FILE, INDEX_MANIFEST):  # a consistent pair, for other item vectors
        shutil.copy(other / name, bundle / name)
    model = LoadedModel.load(bundle, settings)
    assert model.index.source == "built"
    expected = np.argsort(-(model.bundle.item_embeddings @ model.bundle.user_embeddings[0]))
    assert _top(model)[0][:3] == expected[:3].tolist()


def test_old_bundles_and_exact_indexes_store_nothing(bundle, tmp_path):
    model = LoadedModel.load(bundle, _settings(tmp_path, index_kind="exact"))
    assert model.index.kind == "exact"
    assert not (bundle / INDEX_FILE).exists()


def test_an_unwritable_folder_still_serves(bundle, tmp_path):
    index = load_item_index(load_bundle(bundle), _settings(tmp_path), store=False)
    assert index.source == "built" and not (bundle / INDEX_FILE).exists()


def test_the_build_command_stores_the_index(bundle, tmp_path, monkeypatch, capsys):
    for name, value in HNSW.items():
        monkeypatch.setenv(f"PMTREC_{name.upper()}", str(value))
    assert index_cli(["build", str(bundle)]) == 0
    assert (bundle / INDEX_FILE).is_file()
    assert LoadedModel.load(bundle, _settings(tmp_path)).index.source == "stored"
    assert index_cli(["build", str(tmp_path / "missing")]) == 2
    assert "not a model bundle" in capsys.readouterr().err
