"""The ALS fit cache: a fit is stored once and loaded by later runs with the same data,
settings and seed; any change to those refits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from shared.settings import get_settings
from trainer.baselines import als
from trainer.baselines.cache import FitCache, fit_key
from trainer.baselines.config import BaselineConfig
from trainer.baselines.fit import fit_baseline
from trainer.data import Interactions
from trainer.training import TrainConfig, Trainer

ALS = BaselineConfig(method="als", dim=8, reg=1.0, confidence=10.0, iterations=4)


def _refuse_als_fits(monkeypatch) -> None:
    """Make any real ALS fit fail, so that a passing call must have come from the cache."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("ALS was fitted although the cache holds this fit")

    monkeypatch.setattr(als, "fit_als", refuse)


def test_a_stored_fit_is_loaded_instead_of_refitted(tiny_dataset, tmp_path, monkeypatch):
    cache = FitCache(tmp_path)
    first = fit_baseline(tiny_dataset, ALS, cache)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    assert not first.details.get("cached")

    _refuse_als_fits(monkeypatch)
    again = fit_baseline(tiny_dataset, ALS, cache)
    np.testing.assert_array_equal(again.user_vectors, first.user_vectors)
    np.testing.assert_array_equal(again.item_vectors, first.item_vectors)
    assert again.val_metrics == pytest.approx(first.val_metrics)
    assert (again.best_iteration, again.history) == (first.best_iteration, first.history)
    assert again.details["cached"] is True


def test_the_key_follows_the_settings_the_seed_and_the_data(tiny_dataset):
    key = fit_key(tiny_dataset, ALS)
    assert fit_key(tiny_dataset, replace(ALS)) == key
    changed = [
        replace(ALS, seed=1),
        replace(ALS, reg=2.0),
        replace(ALS, dim=16),
        replace(ALS, inputs="positive"),
        replace(ALS, val_users=10),
    ]
    keys = {fit_key(tiny_dataset, config) for config in changed}
    assert key not in keys and len(keys) == len(changed)
    ratings = tiny_dataset.train.ratings.copy()
    ratings[0] = 6.0 - ratings[0]
    train = Interactions(tiny_dataset.train.users, tiny_dataset.train.items, ratings)
    assert fit_key(replace(tiny_dataset, train=train), ALS) != key


def test_another_seed_misses_the_cache(tiny_dataset, tmp_path):
    cache = FitCache(tmp_path)
    fit_baseline(tiny_dataset, ALS, cache)
    assert cache.load(tiny_dataset, replace(ALS, seed=1)) is None
    other = fit_baseline(tiny_dataset, replace(ALS, seed=1), cache)
    assert not other.details.get("cached")
    assert len(list(tmp_path.glob("*.npz"))) == 2


def test_ease_is_not_cached(tiny_dataset, tmp_path):
    ease = BaselineConfig(method="ease", dim=0, reg=10.0)
    fit_baseline(tiny_dataset, ease, FitCache(tmp_path))
    assert not list(tmp_path.iterdir())


def test_an_unreadable_entry_is_refitted(tiny_dataset, tmp_path):
    cache = FitCache(tmp_path)
    first = fit_baseline(tiny_dataset, ALS, cache)
    (stored,) = tmp_path.glob("*.npz")
    stored.write_bytes(b"not an npz file")
    assert cache.load(tiny_dataset, ALS) is None
    again = fit_baseline(tiny_dataset, ALS, cache)
    np.testing.assert_array_equal(again.user_vectors, first.user_vectors)
    assert cache.load(tiny_dataset, ALS) is not None


def test_warm_starts_share_the_cache_folder_setting(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("PMTREC_FIT_CACHE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        config = TrainConfig(method="ew", dim=8, batch_size=64, epochs=1, init="als")
        first = Trainer(tiny_dataset, config, progress=False)
        assert len(list(tmp_path.glob("*.npz"))) == 1

        _refuse_als_fits(monkeypatch)
        second = Trainer(tiny_dataset, config, progress=False)
        np.testing.assert_array_equal(
            second.encoder.item_embedding.detach().numpy(),
            first.encoder.item_embedding.detach().numpy(),
        )
    finally:
        get_settings.cache_clear()


def test_without_the_setting_nothing_is_written(tiny_dataset, tmp_path, monkeypatch):
    monkeypatch.delenv("PMTREC_FIT_CACHE_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        Trainer(tiny_dataset, TrainConfig(method="ew", dim=8, init="als"), progress=False)
        assert not list(tmp_path.rglob("*.npz"))
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("dataset_name", ["office", "epinions"])
def test_an_als_run_and_a_warm_start_of_one_seed_ask_for_the_same_fit(dataset_name):
    """``--method als --seed S`` and ``--init als --seed S`` at ALS's size share a cache entry
    (equal configurations give equal keys)."""
    from types import SimpleNamespace

    from trainer.baselines.warm_start import warm_start_config
    from trainer.defaults import default_baseline_config, default_config

    als_run = replace(default_baseline_config(dataset_name, "als"), seed=2)
    model = replace(default_config(dataset_name, "ew"), dim=als_run.dim, init="als", seed=2)
    warm = warm_start_config(SimpleNamespace(name=dataset_name), model)
    assert warm == als_run
    assert warm_start_config(SimpleNamespace(name=dataset_name), replace(model, seed=1)) != warm
