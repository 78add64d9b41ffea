"""The tuning grids and the equal-budget rule of ``table2``.

Every method gets exactly ``budget`` validation runs (one seed), the first ``budget`` entries of
its grid. A grid lists the method's own hyper-parameter values (in the order below) crossed
with the shared learning-rate/weight-decay choices, lr/wd varying fastest; then the same own
values crossed with padding lr/wd choices. Methods without hyper-parameters of their own (EW,
BPR, PCGrad, ...) would otherwise have only two configurations: the padding gives them as many
as the others, so budgets are equal.

A method's own values are the ``tuning`` values its declaration gives each of its
hyper-parameters (``shared/components.py``), crossed, the first parameter varying fastest.
Orders, so that small budgets try the likely values first: PMTRec's own values come from the
Office validation search (tau on the scale of per-row gradient norms; tau <= 1e-3 collapses
PMTRec on Office because the rating task's gradients are far larger than BPR's), CAGrad's and
GradVac's start with their authors' defaults (c = 0.4, beta = 0.01).
"""

from __future__ import annotations

from typing import Any

from shared.components import own_tuning_values
from shared.registry import COMBINERS

SHARED_LR_WD: tuple[tuple[float, float], ...] = ((0.005, 1e-4), (0.001, 1e-4))
# From the paper's grid (lr in {0.1, 0.05, 0.01, 0.005, 0.001}, wd in {1e-2, ..., 1e-8}).
PADDING_LR_WD: tuple[tuple[float, float], ...] = (
    (0.01, 1e-4),
    (0.005, 1e-6),
    (0.01, 1e-6),
    (0.001, 1e-6),
    (0.05, 1e-4),
    (0.05, 1e-6),
    (0.005, 1e-8),
    (0.01, 1e-8),
    (0.001, 1e-8),
    (0.1, 1e-4),
    (0.1, 1e-6),
    (0.05, 1e-8),
    (0.1, 1e-8),
    (0.005, 1e-2),
    (0.01, 1e-2),
    (0.001, 1e-2),
    (0.05, 1e-2),
    (0.1, 1e-2),
)


def tuning_grid(method: str) -> list[dict[str, Any]]:
    """Every configuration a method may be tuned over, in the order the budget takes them."""
    own_values = own_tuning_values(method)
    return [
        {"lr": lr, "weight_decay": wd, **own}
        for choices in (SHARED_LR_WD, PADDING_LR_WD)
        for own in own_values
        for lr, wd in choices
    ]


def tuning_candidates(method: str, budget: int) -> list[dict[str, Any]]:
    """The first ``budget`` entries of the method's grid (the same count for every method)."""
    grid = tuning_grid(method)
    if not 1 <= budget <= len(grid):
        raise ValueError(f"budget must be in 1..{len(grid)} for '{method}', got {budget}")
    return grid[:budget]


def max_budget(methods: list[str]) -> int:
    """The largest budget every method's grid can fill."""
    return min(len(tuning_grid(method)) for method in methods)


def budget_rule() -> str:
    """The rule, in words, for the reports."""
    shared = ", ".join(f"({lr:g}, {wd:g})" for lr, wd in SHARED_LR_WD)
    padding = ", ".join(f"({lr:g}, {wd:g})" for lr, wd in PADDING_LR_WD[:4])
    tuned = {method: own_tuning_values(method) for method in COMBINERS}
    own = "; ".join(
        f"{method}: " + ", ".join("/".join(f"{k}={v:g}" for k, v in o.items()) for o in values)
        for method, values in tuned.items()
        if values != ({},)
    )
    return (
        "every method gets the same number B of validation runs, the first B entries of its "
        f"grid: its own values ({own}) crossed with (lr, weight decay) in {shared}, lr/wd "
        f"varying fastest, then the same own values with padding choices {padding}, ... "
        "(methods without own hyper-parameters reach B through the padding)"
    )
