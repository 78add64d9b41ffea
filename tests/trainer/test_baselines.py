"""ALS and EASE as methods of the product: fitted on a tiny dataset, selected on validation
with the product's evaluator, EASE's closed form and its size refusal, and the CLI's checks."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from tests.trainer.test_cli import run
from trainer.baselines.config import BaselineConfig
from trainer.baselines.ease import check_ease_fits, ease_memory_bytes
from trainer.baselines.fit import fit_baseline
from trainer.baselines.interactions import interaction_matrix
from trainer.evaluation import RankingEvaluator
from trainer.training import ConfigError

ALS = BaselineConfig(method="als", dim=8, reg=1.0, confidence=10.0, iterations=6)
EASE = BaselineConfig(method="ease", dim=0, reg=10.0)


def _validator(dataset) -> RankingEvaluator:
    exclude = dataset.positive_csr()
    return RankingEvaluator(dataset.positives("val"), *exclude, dataset.num_items)


def test_als_keeps_the_best_validation_sweep(tiny_dataset):
    result = fit_baseline(tiny_dataset, ALS)
    assert result.user_vectors.shape == (tiny_dataset.num_users, 8)
    assert result.item_vectors.shape == (tiny_dataset.num_items, 8)
    assert len(result.history) == ALS.iterations
    # The kept factors are the first sweep with the best monitored validation value ...
    best = int(np.argmax(result.history)) + 1
    assert result.best_iteration == best
    # ... and the reported validation metrics are those factors' own, by the evaluator.
    recomputed = _validator(tiny_dataset).evaluate(*result.torch_vectors())
    assert result.val_metrics == pytest.approx(recomputed)
    assert result.val_metrics["recall@20"] == pytest.approx(result.history[best - 1])


def test_als_reads_the_chosen_interactions(tiny_dataset):
    every = interaction_matrix(tiny_dataset, "all")
    positives = interaction_matrix(tiny_dataset, "positive")
    assert every.nnz == len(tiny_dataset.train)
    assert positives.nnz == len(tiny_dataset.train_positive) < every.nnz
    assert set(np.unique(every.data)) == {1.0}
    # Different inputs give different factors (the option is not ignored).
    a = fit_baseline(tiny_dataset, ALS)
    b = fit_baseline(tiny_dataset, replace(ALS, inputs="positive"))
    assert not np.allclose(a.user_vectors, b.user_vectors)


def _closed_form_ease(dataset, reg: float) -> np.ndarray:
    """EASE's scores X B written out independently of the product's code."""
    x = interaction_matrix(dataset, "all").toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + reg * np.eye(x.shape[1]))
    b = np.eye(x.shape[1]) - p / np.diag(p)
    return x @ b


def test_ease_exact_bundle_scores_are_the_closed_form(tiny_dataset):
    result = fit_baseline(tiny_dataset, EASE)
    scores = result.user_vectors @ result.item_vectors.T
    np.testing.assert_allclose(scores, _closed_form_ease(tiny_dataset, EASE.reg), atol=1e-4)
    # Cold start: the fold-in rows of a user's history sum to that user's EASE vector.
    x = interaction_matrix(tiny_dataset, "all")
    rows = x[0].indices
    np.testing.assert_allclose(
        result.fold_in_vectors[rows].sum(axis=0), result.user_vectors[0], atol=1e-4
    )
    assert result.details["ease"]["exact"] is True


def test_ease_truncated_rank_serves_the_best_rank_d_scores(tiny_dataset):
    exact = fit_baseline(tiny_dataset, EASE)
    low = fit_baseline(tiny_dataset, replace(EASE, dim=5))
    assert low.item_vectors.shape == (tiny_dataset.num_items, 5)
    assert low.details["ease"] == {
        "served_rank": 5,
        "exact": False,
        "memory_bytes": ease_memory_bytes(tiny_dataset.num_items, tiny_dataset.num_users, 5),
    }
    # The truncated SVD of B: at most rank 5, and the error of X B_5 shrinks with the rank.
    full = exact.user_vectors @ exact.item_vectors.T
    errors = []
    for dim in (2, 5, 15):
        served = fit_baseline(tiny_dataset, replace(EASE, dim=dim))
        scores = served.user_vectors @ served.item_vectors.T
        assert np.linalg.matrix_rank(scores, tol=1e-4) <= dim
        errors.append(np.linalg.norm(scores - full))
    assert errors[0] > errors[1] > errors[2]


def test_ease_refuses_a_catalogue_over_its_memory_limit(tiny_dataset):
    # Epinions' full catalogue: the message names the need and the limit.
    with pytest.raises(ConfigError) as refused:
        check_ease_fits(296_277, 4.0)
    message = str(refused.value)
    needed = 3 * 296_277**2 * 8 / 2**30
    assert f"{needed:,.1f} GiB" in message and "limit of 4 GiB" in message
    assert "--ease-max-gb" in message and "--method als" in message
    # The fit itself refuses before any work, and fits under a limit just above its need.
    need_gb = ease_memory_bytes(tiny_dataset.num_items, tiny_dataset.num_users) / 2**30
    with pytest.raises(ConfigError, match="EASE needs"):
        fit_baseline(tiny_dataset, replace(EASE, max_memory_gb=need_gb * 0.99))
    fit_baseline(tiny_dataset, replace(EASE, max_memory_gb=need_gb * 1.01))
    # The bundle's user table counts: one float32 dimension per item when exact.
    assert ease_memory_bytes(100, 10) - ease_memory_bytes(100) == 10 * 100 * 4
    assert ease_memory_bytes(100, 10, served_rank=8) - ease_memory_bytes(100) == 10 * 8 * 4
    with pytest.raises(ConfigError, match=r"and a 1,000,000 x 2,420 float32 user table"):
        check_ease_fits(2420, 4.0, num_users=1_000_000)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reg": 0.0}, "reg must be > 0"),
        ({"confidence": -1.0}, "confidence must be > 0"),
        ({"iterations": 0}, "iterations must be > 0"),
        ({"dim": 0}, "dim must be > 0"),
        ({"inputs": "ratings"}, "inputs must be one of all, positive"),
        ({"method": "svd"}, "unknown baseline 'svd'"),
        ({"eval_exclude": "all"}, "eval_exclude must be one of positives, seen"),
    ],
)
def test_bad_baseline_configuration_is_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        replace(ALS, **changes)


def test_ease_rank_zero_is_exact_but_negative_is_refused():
    assert replace(EASE, dim=0).dim == 0
    with pytest.raises(ConfigError, match="dim must be >= 0 for ease"):
        replace(EASE, dim=-1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "als", "--lr", "0.1"], "--lr does not apply to --method als"),
        (["--method", "ease", "--tasks", "rating"], "--tasks does not apply to --method ease"),
        (["--method", "pmtrec", "--reg", "3"], "--reg does not apply to --method pmtrec"),
        (["--method", "als", "--reg", "-1"], "reg must be > 0"),
        (["--method", "ease", "--ease-max-gb", "0.001"], "above the limit of 0.001 GiB"),
    ],
)
def test_baseline_cli_bad_input_exits_2(tmp_path, data_dir, args, message):
    result = run(
        "-m",
        "trainer.fit",
        *args,
        "--out",
        str(tmp_path / "b"),
        "--no-download",
        "--data-dir",
        str(data_dir),
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "b").exists()


def test_als_without_the_implicit_package_exits_2(tmp_path, data_dir, monkeypatch, capsys):
    from trainer import fit

    for name in ("implicit", "implicit.als"):  # even once imported, the import now fails
        monkeypatch.setitem(sys.modules, name, None)
    argv = ["--method", "als", "--out", str(tmp_path / "b"), "--no-download"]
    assert fit.main([*argv, "--data-dir", str(data_dir), "--no-progress"]) == 2
    assert "needs the 'implicit' package" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
