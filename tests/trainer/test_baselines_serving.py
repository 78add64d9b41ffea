"""ALS and EASE bundles serve through the API like any embedding model, and the Office CLI
path writes a bundle whose stored metrics the bundle's own vectors reproduce."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from service.app import create_app
from shared.bundle import load_bundle
from tests.service.conftest import TestClient, make_settings
from tests.trainer.test_cli import run
from trainer.baselines.cli import bundle_extra
from trainer.baselines.config import BaselineConfig
from trainer.baselines.fit import fit_baseline
from trainer.evaluate import evaluate_bundle
from trainer.export import export_vectors


def _export(result, dataset, path):
    return export_vectors(
        result.user_vectors,
        result.item_vectors,
        dataset,
        path,
        {"val": result.val_metrics},
        method=result.config.method,
        hyperparameters=result.config.hyperparameters(),
        extra=bundle_extra(result),
        fold_in_vectors=(
            None if result.fold_in_vectors is result.item_vectors else result.fold_in_vectors
        ),
    )


def _top(scores: np.ndarray, excluded: set[int], k: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    return [int(r) for r in order if int(r) not in excluded][:k]


@pytest.mark.parametrize("method", ["als", "ease"])
def test_baseline_bundle_serves_through_the_api(tmp_path, tiny_dataset, method):
    config = BaselineConfig(method=method, dim=8 if method == "als" else 0, reg=1.0, iterations=4)
    result = fit_baseline(tiny_dataset, config)
    path = _export(result, tiny_dataset, tmp_path / "bundles" / method)
    bundle = load_bundle(path)
    assert bundle.manifest["method"] == method
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path / "bundles")
    with TestClient(create_app(settings, bootstrap_bundle=path)) as client:
        # A known user: the method's own scores, seen items left out, best first.
        row = 5
        body = client.post("/recommend", json={"user_id": bundle.user_ids[row], "k": 6}).json()
        assert body["source"] == "personalized"
        scores = result.user_vectors[row] @ result.item_vectors.T
        expected = _top(scores, set(bundle.seen_rows(row).tolist()), 6)
        assert [i["item_id"] for i in body["items"]] == [bundle.item_ids[r] for r in expected]
        np.testing.assert_allclose([i["score"] for i in body["items"]], scores[expected], 1e-4)

        # Cold start with that user's training items as history, under an unknown id.
        history = [bundle.item_ids[r] for r in bundle.seen_rows(row)]
        body = client.post(
            "/recommend", json={"user_id": "newcomer", "history": history, "k": 6}
        ).json()
        assert body["source"] == "history"
        returned = [bundle.item_ids.index(i["item_id"]) for i in body["items"]]
        assert not set(returned) & set(bundle.seen_rows(row).tolist())
        if method == "ease":
            # EASE's exact bundle folds a history in to the user's own EASE ranking.
            assert returned == expected


@pytest.mark.real_data
@pytest.mark.slow
def test_office_als_cli_writes_a_bundle_its_metrics_come_from(tmp_path, data_dir, office):
    out = tmp_path / "als"
    result = run(
        "-m",
        "trainer.fit",
        "--method",
        "als",
        "--iterations",
        "4",
        "--out",
        str(out),
        "--no-progress",
        "--no-download",
        "--data-dir",
        str(data_dir),
        env={"OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    bundle = load_bundle(out)
    manifest = bundle.manifest
    assert manifest["method"] == "als" and manifest["dim"] == 128
    assert manifest["hyperparameters"]["reg"] == 300.0
    assert 1 <= manifest["best_epoch"] <= manifest["epochs_run"] == 4
    recomputed = evaluate_bundle(bundle, office)
    for split in ("val", "test"):
        assert manifest["metrics"][split] == pytest.approx(recomputed[split], abs=1e-6)


def test_baseline_config_defaults_are_the_documented_ones():
    from trainer.defaults import default_baseline_config

    als = default_baseline_config("office", "als")
    assert (als.dim, als.reg, als.confidence, als.iterations) == (128, 300.0, 100.0, 15)
    assert default_baseline_config("epinions", "als").val_users == 5000
    assert replace(default_baseline_config("office", "ease"), dim=0).reg == 500.0
