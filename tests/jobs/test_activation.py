"""The activation guard after a retrain."""

from __future__ import annotations

from shared.db import ModelVersion
from trainer.jobs.activation import activation_decision


def _version(version_id: str, recall: float | None, dataset: str = "office") -> ModelVersion:
    metrics = {"val": {"recall@20": recall}} if recall is not None else {}
    return ModelVersion(id=version_id, dataset=dataset, metrics=metrics)


def test_guard_activates_only_when_not_worse():
    new = _version("new", 0.0135)
    assert activation_decision(new, None, guard=True) == (True, "no version was active")
    assert activation_decision(new, _version("old", 0.0100), guard=True)[0]
    assert activation_decision(new, _version("old", 0.0135), guard=True)[0]  # equal: not worse
    allowed, reason = activation_decision(new, _version("old", 0.0200), guard=True)
    assert not allowed and "worse" in reason and "0.0135" in reason and "0.0200" in reason


def test_guard_refuses_what_it_cannot_compare_unless_turned_off():
    new = _version("new", 0.0135)
    for active in (_version("old", 0.001, dataset="epinions"), _version("old", None)):
        allowed, reason = activation_decision(new, active, guard=True)
        assert not allowed and "activation_guard" in reason
        assert activation_decision(new, active, guard=False) == (True, "activation guard off")
    assert activation_decision(_version("x", None), _version("old", 0.01), guard=True)[0] is False
