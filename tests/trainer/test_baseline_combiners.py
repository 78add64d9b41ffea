"""Multi-task baselines on small problems, against values worked out by hand or against the
optimality conditions of the original algorithms."""

import numpy as np
import pytest
import torch

from trainer.combiners import COMBINERS, build_combiner
from trainer.combiners.cagrad import cagrad_weights

CONFLICT = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])  # inner product -1: the tasks conflict


def aggregate(name, jacobian, **hyperparameters):
    return build_combiner(name, num_tasks=len(jacobian), **hyperparameters).aggregate(jacobian)


def test_pcgrad_projects_conflicting_gradients():
    # g1' = g1 - (g1.g2/|g2|^2) g2 = (1/2, 1/2); g2' = g2 - (g2.g1/|g1|^2) g1 = (0, 1).
    assert aggregate("pcgrad", CONFLICT).tolist() == pytest.approx([0.5, 1.5])
    # No conflict: plain sum.
    agreeing = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    assert aggregate("pcgrad", agreeing).tolist() == pytest.approx([2.0, 1.0])


def test_gradvac_first_step_reaches_orthogonality_target():
    # The EMA target starts at 0: conflicting pairs are moved to cosine 0, i.e. PCGrad's step.
    assert aggregate("gradvac", CONFLICT).tolist() == pytest.approx([0.5, 1.5])


def test_graddrop_sign_rule():
    jacobian = torch.tensor([[1.0, -2.0, 3.0], [2.0, -1.0, -3.0]])
    graddrop = build_combiner("graddrop", generator=torch.Generator().manual_seed(0))
    draws = torch.stack([graddrop.aggregate(jacobian) for _ in range(400)])
    # Same signs: purity 1 (or 0), nothing is dropped.
    assert torch.all(draws[:, 0] == 3.0) and torch.all(draws[:, 1] == -3.0)
    # Opposite signs of equal mass: purity 1/2, exactly one side passes, each half the time.
    assert set(draws[:, 2].tolist()) == {3.0, -3.0}
    assert abs(float((draws[:, 2] > 0).float().mean()) - 0.5) < 0.1


def test_rlw_draws_softmax_weights_per_step():
    identity = torch.eye(3)  # with unit orthogonal gradients the update IS the weight vector
    rlw = build_combiner("rlw", generator=torch.Generator().manual_seed(0))
    first, second = rlw.aggregate(identity), rlw.aggregate(identity)
    for weights in (first, second):
        assert torch.all(weights > 0) and float(weights.sum()) == pytest.approx(1.0)
    assert not torch.allclose(first, second)


def test_aligned_mtl_equalises_orthogonal_components():
    # Gram diag(4, 1): B = sqrt(1) * diag(1/2, 1); w = B (1/2, 1/2) = (1/4, 1/2);
    # update = 1/4 (2, 0) + 1/2 (0, 1) = (1/2, 1/2).
    jacobian = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert aggregate("aligned_mtl", jacobian).tolist() == pytest.approx([0.5, 0.5])


def test_cagrad_solves_its_subproblem_and_reduces_to_the_mean():
    assert aggregate("cagrad", CONFLICT, cagrad_c=0.0).tolist() == pytest.approx([0.0, 0.5])
    gram = (CONFLICT @ CONFLICT.T).double().numpy()
    c = 0.5
    w = cagrad_weights(gram, c)
    mean = np.full(2, 0.5)
    radius = c * np.sqrt(mean @ gram @ mean)

    def objective(v):
        return v @ gram @ mean + radius * np.sqrt(v @ gram @ v)

    grid = [np.array([p, 1 - p]) for p in np.linspace(0, 1, 1001)]
    assert w.sum() == pytest.approx(1.0) and np.all(w >= -1e-9)
    assert objective(w) <= min(objective(v) for v in grid) + 1e-6
    # The update is (g0 + c |g0| g_w / |g_w|) / (1 + c^2).
    update = aggregate("cagrad", CONFLICT, cagrad_c=c).double().numpy()
    g0, gw = CONFLICT.double().numpy().mean(0), w @ CONFLICT.double().numpy()
    expected = (g0 + c * np.linalg.norm(g0) * gw / np.linalg.norm(gw)) / (1 + c**2)
    assert update == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    "jacobian",
    [
        torch.tensor([[2.0, 0.0], [0.0, 1.0]]),
        torch.tensor([[1.0, 0.5, 0.0], [0.2, 1.0, 0.3], [0.0, -0.4, 2.0]]),
    ],
)
def test_nash_mtl_satisfies_the_bargaining_condition(jacobian):
    pytest.importorskip("cvxpy")
    update = aggregate("nash_mtl", jacobian).double()
    weights = torch.linalg.lstsq(jacobian.double().T, update[:, None]).solution[:, 0]
    gram = (jacobian @ jacobian.T).double()
    # G a = 1 / a up to the final norm clipping, i.e. a_i (G a)_i equal for every task.
    products = weights * (gram @ weights)
    assert torch.all(weights > 0)
    assert torch.allclose(products, products.mean().expand_as(products), rtol=1e-3)


def _build(name, generator=None):
    if name == "nash_mtl":
        pytest.importorskip("cvxpy")
    hyperparameters = {"alpha": 1.1, "tau": 0.1} if name == "pmtrec" else {}
    return build_combiner(name, num_tasks=3, generator=generator, **hyperparameters)


# Every declared combiner, so that a new one is checked the day it is registered.
@pytest.mark.parametrize("name", list(COMBINERS))
def test_every_combiner_handles_rows_no_task_touches(name):
    gradients = torch.zeros(3, 4, 2)
    gradients[0, 0] = torch.tensor([1.0, 2.0])
    gradients[1, 1] = torch.tensor([-1.0, 0.5])
    combined = _build(name).combine(gradients, 1)
    assert combined.shape == (4, 2)
    assert torch.isfinite(combined).all()
    assert torch.all(combined[2:] == 0)


@pytest.mark.parametrize("name", list(COMBINERS))
def test_every_combiner_draws_from_the_generator_it_is_given(name):
    gradients = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(1))
    runs = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)  # torch's global generator must not matter
        combiner = _build(name, torch.Generator().manual_seed(7))
        runs.append([combiner.combine(gradients, epoch) for epoch in (1, 2, 3)])
    for first, second in zip(*runs):
        assert torch.equal(first, second)
