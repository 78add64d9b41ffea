"""The equal-budget rule of table2: every method gets exactly B distinct tuning runs."""

import pytest

from shared.components import own_tuning_values
from trainer.combiners import COMBINERS
from trainer.experiments.grids import (
    SHARED_LR_WD,
    max_budget,
    tuning_candidates,
    tuning_grid,
)


@pytest.mark.parametrize("budget", [1, 2, 4, 6])
def test_every_method_gets_the_same_number_of_distinct_configurations(budget):
    counts = {}
    for method in COMBINERS:
        candidates = tuning_candidates(method, budget)
        keys = {tuple(sorted(c.items())) for c in candidates}
        assert len(keys) == len(candidates), f"{method} repeats a configuration"
        counts[method] = len(candidates)
    assert set(counts.values()) == {budget}


def test_methods_without_own_values_are_padded_with_more_lr_wd_choices():
    ew = tuning_candidates("ew", 4)
    assert [(c["lr"], c["weight_decay"]) for c in ew[:2]] == list(SHARED_LR_WD)
    assert all(set(c) == {"lr", "weight_decay"} for c in ew)
    assert len({(c["lr"], c["weight_decay"]) for c in ew}) == 4


def test_own_values_are_crossed_with_the_shared_lr_wd_choices_first():
    own = own_tuning_values("pmtrec")
    pmtrec = tuning_candidates("pmtrec", 2 * len(own))
    assert {(c["lr"], c["weight_decay"]) for c in pmtrec} == set(SHARED_LR_WD)
    assert {(c["alpha"], c["tau"]) for c in pmtrec} == {(o["alpha"], o["tau"]) for o in own}
    # The first parameter declared (alpha) varies fastest, so that recorded runs keep their
    # place in the budget order.
    assert [(o["alpha"], o["tau"]) for o in own[:4]] == [
        (1.0, 0.01),
        (1.02, 0.01),
        (1.04, 0.01),
        (1.0, 0.1),
    ]
    # Small taus collapse PMTRec on Office: the grid keeps tau on the gradient-norm scale.
    assert min(c["tau"] for c in tuning_grid("pmtrec")) >= 0.01


def test_a_budget_no_grid_can_fill_is_refused():
    largest = max_budget(list(COMBINERS))
    tuning_candidates("ew", largest)
    with pytest.raises(ValueError, match="budget"):
        tuning_candidates("ew", len(tuning_grid("ew")) + 1)
    with pytest.raises(ValueError, match="budget"):
        tuning_candidates("pmtrec", 0)
