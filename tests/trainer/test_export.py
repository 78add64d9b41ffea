"""Bundle round trip, checksum verification, and ONNX parity with the torch fold-in."""

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from shared.bundle import BundleError, load_bundle, verify_bundle
from trainer.evaluate import evaluate_bundle
from trainer.export import export_bundle, fold_in_user
from trainer.training import TrainConfig, Trainer


@pytest.fixture
def trained(tiny_dataset):
    config = TrainConfig(auxiliary_tasks=("align_uniform", "rating"), batch_size=64, epochs=2)
    return Trainer(tiny_dataset, config, progress=False).fit()


def test_bundle_round_trip(tmp_path, tiny_dataset, trained):
    metrics = {"val": {"recall@20": 0.5}, "test": {"recall@20": 0.25}}
    path = export_bundle(trained, tiny_dataset, tmp_path / "b", metrics)
    bundle = load_bundle(path)
    users, items = trained.encoder.final_vectors()
    assert np.array_equal(bundle.user_embeddings, users.numpy())
    assert np.array_equal(bundle.item_embeddings, items.numpy())
    assert bundle.user_ids == tiny_dataset.user_ids and bundle.item_ids == tiny_dataset.item_ids
    assert bundle.manifest["metrics"] == metrics
    assert bundle.manifest["hyperparameters"]["batch_size"] == 64
    # Seen items are every training interaction of the user, low ratings included.
    user0 = tiny_dataset.train.items[tiny_dataset.train.users == 0]
    assert set(bundle.seen_rows(0).tolist()) == set(user0.tolist())
    assert bundle.item_popularity.sum() == len(tiny_dataset.train)
    # Metrics recomputed from the bundle equal the trainer's own evaluation.
    recomputed = evaluate_bundle(bundle, tiny_dataset)
    assert recomputed["val"] == pytest.approx(trained.val_metrics)


def test_no_half_bundle_and_no_silent_overwrite(tmp_path, tiny_dataset, trained):
    path = export_bundle(trained, tiny_dataset, tmp_path / "b", {})
    with pytest.raises(BundleError, match="already exists"):
        export_bundle(trained, tiny_dataset, path, {})
    replaced = export_bundle(trained, tiny_dataset, path, {"val": {}}, overwrite=True)
    assert load_bundle(replaced).manifest["metrics"] == {"val": {}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no staging leftovers


def test_corrupted_file_is_refused(tmp_path, tiny_dataset, trained):
    path = export_bundle(trained, tiny_dataset, tmp_path / "b", {})
    embeddings = np.load(path / "item_embeddings.npy")
    embeddings[0, 0] += 1.0
    np.save(path / "item_embeddings.npy", embeddings)
    with pytest.raises(BundleError, match=r"item_embeddings\.npy is corrupted"):
        verify_bundle(path)
    path = export_bundle(trained, tiny_dataset, path, {}, overwrite=True)
    (path / "user_ids.json").unlink()
    with pytest.raises(BundleError, match=r"user_ids\.json is missing"):
        load_bundle(path)


def test_manifest_of_unknown_format_is_refused(tmp_path, tiny_dataset, trained):
    path = export_bundle(trained, tiny_dataset, tmp_path / "b", {})
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="format 99"):
        load_bundle(path)


def test_onnx_user_encoder_matches_torch(tmp_path, tiny_dataset, trained):
    bundle = load_bundle(export_bundle(trained, tiny_dataset, tmp_path / "b", {}))
    session = ort.InferenceSession(
        str(bundle.user_encoder_path), providers=["CPUExecutionProvider"]
    )
    items = torch.from_numpy(bundle.item_embeddings)
    scale = bundle.manifest["user_encoder"]["scale"]
    rng = np.random.default_rng(0)
    for size in (1, 3, 17):
        rows = rng.choice(bundle.num_items, size)
        (onnx_vector,) = session.run(None, {"item_rows": rows.astype(np.int64)})
        torch_vector = fold_in_user(items, torch.from_numpy(rows), scale).numpy()
        assert onnx_vector.shape == (bundle.dim,)
        assert np.max(np.abs(onnx_vector - torch_vector)) <= 1e-5
        assert np.linalg.norm(onnx_vector) == pytest.approx(scale, rel=1e-5)


def test_manifest_records_built_tasks_and_load_options(tmp_path, tiny_dataset, trained):
    from pathlib import Path

    from trainer.data import LoadOptions

    options = LoadOptions(core=5, interactions=Path("/data/mine.csv"), skip_bad_rows=True)
    path = export_bundle(trained, tiny_dataset, tmp_path / "b", {}, load_options=options)
    manifest = load_bundle(path).manifest
    assert manifest["tasks"] == ["bpr", "align_uniform", "rating"]
    assert manifest["load_options"] == {
        "core": 5,
        "interactions": "/data/mine.csv",
        "skip_bad_rows": True,
    }
    assert LoadOptions.from_manifest(manifest["load_options"]) == options
