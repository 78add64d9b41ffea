"""The sampled softmax main task (main_task=softmax)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from trainer.tasks import build_tasks, declared_auxiliary_tasks
from trainer.tasks.bpr import BPRTask
from trainer.tasks.softmax import SampledSoftmaxTask
from trainer.training import ConfigError, TrainConfig, Trainer

CONFIG = TrainConfig(
    method="ew",
    auxiliary_tasks=("align_uniform", "rating"),
    dim=8,
    batch_size=64,
    epochs=2,
    main_task="softmax",
    softmax_negatives=16,
)


def reference_loss(users, items, user_rows, candidates, size, temperature):
    """Each positive's cross-entropy over the candidates other than copies of its item."""
    losses = []
    for row in range(size):
        own = candidates[row]
        keep = [c for c in range(len(candidates)) if c == row or candidates[c] != own]
        logits = np.array([users[user_rows[row]] @ items[candidates[c]] for c in keep])
        logits = logits / temperature
        target = keep.index(row)
        losses.append(np.log(np.exp(logits - logits.max()).sum()) + logits.max() - logits[target])
    return float(np.mean(losses))


def test_loss_matches_the_cross_entropy_over_the_other_items(tiny_dataset):
    task = SampledSoftmaxTask(tiny_dataset.train_positive, tiny_dataset.num_items, 0.5, 6)
    generator = torch.Generator().manual_seed(0)
    batch = task.sample(torch.arange(20), generator)
    candidates = batch.items["candidate"]
    assert len(candidates) == 20 + 6
    assert len(torch.unique(candidates[:20])) < 20  # repeated items: the masking is exercised
    rng = np.random.default_rng(0)
    users = rng.normal(size=(tiny_dataset.num_users, 4))
    items = rng.normal(size=(tiny_dataset.num_items, 4))
    got = task.loss(torch.from_numpy(users), torch.from_numpy(items), batch).item()
    expected = reference_loss(
        users, items, batch.users["user"].numpy(), candidates.numpy(), 20, 0.5
    )
    assert got == pytest.approx(expected, rel=1e-6)


def test_the_main_task_is_chosen_by_main_task(tiny_dataset):
    tasks = build_tasks(tiny_dataset, ("rating",), {"main_task": "softmax"})
    assert isinstance(tasks[0], SampledSoftmaxTask) and len(tasks) == 2
    assert isinstance(build_tasks(tiny_dataset, ("rating",))[0], BPRTask)
    assert "softmax" not in declared_auxiliary_tasks()
    assert "bpr" not in declared_auxiliary_tasks()


def test_training_with_the_softmax_main_task_lowers_its_loss(tiny_dataset):
    trainer = Trainer(tiny_dataset, replace(CONFIG, epochs=5, lr=0.05), progress=False)
    assert trainer.tasks[0].name == "softmax"
    result = trainer.fit()
    first, last = result.history[0].losses["softmax"], result.history[-1].losses["softmax"]
    assert last < first


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="main_task must be one of bpr, softmax"):
        replace(CONFIG, main_task="listwise")
    with pytest.raises(ConfigError, match="softmax_temperature"):
        replace(CONFIG, softmax_temperature=0.0)
