"""The one registration mechanism: declarations, their rules, and binding implementations."""

from __future__ import annotations

import pytest

from shared.registry import COMBINERS, Param, Registry, validate
from trainer.combiners import build_combiner
from trainer.combiners.base import GradientCombiner
from trainer.registry import _BOUND, implements


@pytest.fixture
def declared():
    """A combiner declared for one test, and forgotten afterwards."""
    component = COMBINERS.declare(
        "scaled", (Param("scale", float, 1.0, "a scale", low=0, low_inclusive=False),)
    )
    yield component
    COMBINERS.remove("scaled")
    _BOUND["combiner"].pop("scaled", None)


def test_a_param_says_its_rule_and_refuses_what_it_excludes():
    ratio = Param("ratio", float, 1.0, low=0, high=1, low_inclusive=False)
    assert ratio.describe() == "in (0, 1]"
    assert ratio.problem(0.0) == "ratio must be in (0, 1], got 0.0"
    assert ratio.problem(1) is None and ratio.coerce(1) == 1.0
    assert ratio.problem("1") == "ratio must be a number"
    count = Param("count", int, 1, low=1, high=2**32 - 1)
    assert count.describe() == "in [1, 4294967295]"
    assert count.problem(2.5) == "count must be an integer" and count.coerce(3.0) == 3
    assert count.problem(True) == "count must be an integer"
    kinds = Registry("toy", "kind")
    kinds.declare("a")
    choice = Param("kind", str, "a", choices=kinds)
    assert choice.problem("b") == "unknown kind 'b'; valid names: a"


def test_a_name_is_declared_once_and_unknown_names_list_the_valid_ones():
    kinds = Registry("toy", "kind")
    kinds.declare("a")
    with pytest.raises(ValueError, match="kind 'a' declared twice"):
        kinds.declare("a")
    with pytest.raises(ValueError, match="unknown kind 'b'; valid names: a"):
        kinds.get("b")
    with pytest.raises(Exception, match="unknown thing 'x'; valid names: y"):
        validate({"x": 1}, {"y": Param("y", int, 0)}, "thing")


def test_implements_refuses_an_undeclared_name():
    with pytest.raises(ValueError, match="unknown method 'nowhere'"):
        implements("combiner", "nowhere")


def test_implements_refuses_parameters_other_than_the_declared_ones(declared):
    with pytest.raises(
        ValueError, match=r"declared with parameters \(scale\) but takes \(factor\)"
    ):

        @implements("combiner", "scaled")
        class Renamed(GradientCombiner):
            def __init__(self, factor: float):  # renamed: must not silently take a default
                self.factor = factor

            def combine(self, task_gradients, epoch):
                return task_gradients.sum(dim=0)


def test_a_bound_combiner_takes_declared_defaults_and_rules(declared):
    @implements("combiner", "scaled")
    class Scaled(GradientCombiner):
        def __init__(self, scale: float):
            self.scale = scale

        def combine(self, task_gradients, epoch):
            return self.scale * task_gradients.sum(dim=0)

    assert Scaled().scale == 1.0  # the declared default
    assert build_combiner("scaled", scale=2.0).scale == 2.0
    with pytest.raises(ValueError, match=r"scale must be > 0, got 0\.0"):
        Scaled(scale=0.0)
    with pytest.raises(ValueError, match="unknown scaled hyper-parameter 'scal'"):
        build_combiner("scaled", scal=2.0)
