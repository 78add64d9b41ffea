"""The fast PMTRec combiner against a naive, dense, row-by-row Algorithm 1."""

import math

import numpy as np
import pytest
import torch

from trainer.combiners import EqualWeight, MainTaskOnly, PMTRec, build_combiner


def dense_algorithm_1(gradients: list[np.ndarray], alpha: float, tau: float, epoch: int):
    """Algorithm 1 as written: full-table gradients, every row, every task, in float64."""
    rows, dim = gradients[0].shape
    out = np.zeros((rows, dim))
    for r in range(rows):
        norms = [float(np.sqrt(np.sum(g[r] ** 2))) for g in gradients]
        norms[0] *= alpha**epoch
        logits = [n / tau for n in norms]
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        weights = [e / sum(exps) for e in exps]
        for w, g in zip(weights, gradients):
            out[r] += w * g[r]
    return out


def sparse_task_gradients(rng, num_rows: int, dim: int, num_tasks: int, scale: float):
    """Each task touches a random subset of rows; elsewhere its gradient is zero."""
    dense = []
    for _ in range(num_tasks):
        g = np.zeros((num_rows, dim))
        touched = rng.choice(num_rows, size=rng.integers(1, num_rows), replace=False)
        g[touched] = rng.normal(scale=scale, size=(len(touched), dim))
        dense.append(g)
    return dense


@pytest.mark.parametrize(
    ("alpha", "tau"),
    [(1.1, 1e-3), (1.0, 1e-3), (1.1, 1.0), (1.0, 1.0), (1.2, 1e-6), (1.02, 10.0)],
    ids=["full", "no-focusing", "no-balancing", "neither", "tiny-tau", "large-tau"],
)
@pytest.mark.parametrize("epoch", [1, 7, 40])
def test_fast_pmtrec_equals_dense_algorithm_1(alpha, tau, epoch):
    rng = np.random.default_rng(epoch)
    num_rows, dim = 60, 8
    dense = sparse_task_gradients(rng, num_rows, dim, num_tasks=3, scale=1e-3)
    expected = dense_algorithm_1(dense, alpha, tau, epoch)

    # The fast path only sees the rows some task touches, stacked [tasks, rows, dim].
    touched = np.flatnonzero(np.any([np.any(g != 0, axis=1) for g in dense], axis=0))
    stacked = torch.from_numpy(np.stack([g[touched] for g in dense]))
    combined = PMTRec(alpha=alpha, tau=tau).combine(stacked, epoch).numpy()
    fast = np.zeros_like(expected)
    fast[touched] = combined

    assert np.max(np.abs(fast - expected)) <= 1e-6
    # Not a vacuous comparison: the weights differ from plain averaging in the full setting.
    if (alpha, tau) == (1.1, 1e-3):
        average = np.mean(dense, axis=0)
        assert np.max(np.abs(expected - average)) > 1e-5


def test_untouched_task_enters_the_softmax_with_norm_zero():
    # Row touched by the main task only: the two idle tasks still take softmax mass.
    grads = torch.zeros(3, 1, 2, dtype=torch.float64)
    grads[0, 0] = torch.tensor([3.0, 4.0])  # norm 5
    weights = PMTRec(alpha=1.0, tau=5.0).task_weights(grads, epoch=1)
    e = math.e
    assert weights[:, 0].tolist() == pytest.approx([e / (e + 2), 1 / (e + 2), 1 / (e + 2)])
    combined = PMTRec(alpha=1.0, tau=5.0).combine(grads, epoch=1)
    assert combined[0].tolist() == pytest.approx([3 * e / (e + 2), 4 * e / (e + 2)])


def test_focusing_shifts_weight_to_the_main_task_over_epochs():
    grads = torch.ones(2, 1, 4, dtype=torch.float64)
    pmtrec = PMTRec(alpha=1.2, tau=1.0)
    early = pmtrec.task_weights(grads, epoch=1)[0, 0]
    late = pmtrec.task_weights(grads, epoch=30)[0, 0]
    assert 0.5 < early < late
    assert late > 0.999


def test_huge_focus_stays_finite():
    grads = torch.rand(3, 5, 4, dtype=torch.float64) * 1e-3
    combined = PMTRec(alpha=1.2, tau=1e-6).combine(grads, epoch=5000)
    assert torch.isfinite(combined).all()
    assert torch.allclose(combined, grads[0])


def test_fixed_weightings():
    grads = torch.randn(3, 4, 2)
    assert torch.allclose(EqualWeight().combine(grads, 1), grads.sum(0))
    assert torch.equal(MainTaskOnly().combine(grads, 1), grads[0])
    assert EqualWeight().loss_weights(3) == [1.0, 1.0, 1.0]
    assert MainTaskOnly().loss_weights(3) == [1.0, 0.0, 0.0]


def test_invalid_hyperparameters_and_names():
    with pytest.raises(ValueError, match="alpha"):
        PMTRec(alpha=0.9)
    with pytest.raises(ValueError, match="tau"):
        PMTRec(tau=0)
    with pytest.raises(ValueError, match="valid names: pmtrec, ew, bpr"):
        build_combiner("nope")
    assert "alpha=1.1" in repr(build_combiner("pmtrec", alpha=1.1, tau=0.5))
