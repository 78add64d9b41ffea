"""The rating task's regression targets (rating_target)."""

import numpy as np
import pytest

from trainer.tasks import build_tasks
from trainer.tasks.rating import RatingTask, rescaled


def test_stars_are_kept_as_given(tiny_dataset):
    task = RatingTask(tiny_dataset.train)
    assert np.array_equal(task.ratings.numpy(), tiny_dataset.train.ratings)


@pytest.mark.parametrize("target", ["unit", "standard"])
def test_rescaled_targets_keep_the_order(tiny_dataset, target):
    stars = tiny_dataset.train.ratings
    values = rescaled(stars, target)
    assert values.dtype == np.float32
    order = np.argsort(stars, kind="stable")
    assert np.all(np.diff(values[order]) >= 0)  # the same order as the stars
    assert len(np.unique(values)) == len(np.unique(stars))


def test_unit_spans_zero_to_one(tiny_dataset):
    values = rescaled(tiny_dataset.train.ratings, "unit")
    assert values.min() == pytest.approx(0.0) and values.max() == pytest.approx(1.0)


def test_standard_has_zero_mean_and_unit_spread(tiny_dataset):
    values = rescaled(tiny_dataset.train.ratings, "standard")
    assert values.mean() == pytest.approx(0.0, abs=1e-5)
    assert values.std() == pytest.approx(1.0, abs=1e-5)


def test_constant_ratings_map_to_zero():
    assert np.array_equal(rescaled(np.full(4, 5.0), "unit"), np.zeros(4, dtype=np.float32))
    assert np.array_equal(rescaled(np.full(4, 5.0), "standard"), np.zeros(4, dtype=np.float32))


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="rating_target"):
        rescaled(np.ones(3), "percent")


def test_the_setting_reaches_the_task(tiny_dataset):
    """build_tasks hands the declared rating_target to the rating task."""
    tasks = build_tasks(tiny_dataset, ("rating",), {"rating_target": "unit"})
    rating = next(task for task in tasks if isinstance(task, RatingTask))
    assert rating.ratings.max().item() == pytest.approx(1.0)
    assert rating.ratings.min().item() == pytest.approx(0.0)
