"""Experiments on the tiny synthetic dataset, run in-process (workers=0) for speed."""

from __future__ import annotations

import pytest

from trainer.experiments import Experiment, InMemoryDataset


@pytest.fixture
def make_experiment(tmp_path, tiny_dataset):
    """Build an Experiment over the tiny dataset; keyword arguments override the defaults."""

    def build(dataset=None, **overrides) -> Experiment:
        lines: list[str] = []
        settings = {
            "source": InMemoryDataset(dataset or tiny_dataset),
            "out": tmp_path / "reports",
            "seeds": (0, 1),
            "budget": 2,
            "workers": 0,
            "max_epochs": 2,
            "methods": ("bpr", "ew", "cagrad", "pmtrec"),
            "overrides": {"batch_size": 64, "patience": 2},
            "command": "python -m trainer.experiments (test)",
            "progress": lines.append,
            **overrides,
        }
        experiment = Experiment(**settings)
        experiment.lines = lines  # the progress lines, for assertions
        return experiment

    return build
