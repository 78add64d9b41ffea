"""The row-sparse Adam option: a step moves only the rows it touches; dense Adam moves all."""

from __future__ import annotations

import pytest
import torch

from trainer.training import ConfigError, TrainConfig, Trainer


def trainer_with(dataset, optimizer: str) -> Trainer:
    config = TrainConfig(
        method="pmtrec", auxiliary_tasks=("rating",), batch_size=16, optimizer=optimizer
    )
    return Trainer(dataset, config, progress=False)


def touched_items(trainer: Trainer, index: torch.Tensor) -> torch.Tensor:
    """Item rows the next step's batches read (drawn from a copy of the generator)."""
    generator = torch.Generator().set_state(trainer.generator.get_state())
    batches = [task.sample(index, generator) for task in trainer.tasks]
    return torch.unique(torch.cat([t for b in batches for t in b.items.values()]))


@pytest.mark.parametrize("optimizer", ["adam", "row_sparse_adam"])
def test_a_step_moves_the_rows_it_touches_and_row_sparse_only_those(tiny_dataset, optimizer):
    torch.set_num_threads(1)
    trainer = trainer_with(tiny_dataset, optimizer)
    table = trainer.encoder.item_embedding
    trainer.step(torch.arange(0, 16), 1)  # moments on the first step's rows
    index = torch.arange(16, 32)
    touched = touched_items(trainer, index)
    untouched = torch.ones(len(table), dtype=torch.bool)
    untouched[touched] = False
    assert untouched.any()
    before = table.detach().clone()
    trainer.step(index, 2)
    moved = (table.detach() != before).any(dim=1)
    assert moved[touched].all()
    if optimizer == "row_sparse_adam":
        assert not moved[untouched].any()
    else:  # dense Adam: momentum moves rows from the first step that this one did not touch
        assert moved[untouched].any()


def test_row_sparse_adam_state_round_trips_through_a_checkpoint(tiny_dataset, tmp_path):
    from trainer.training import CheckpointStore
    from trainer.training.checkpoint import LoopState

    trainer = trainer_with(tiny_dataset, "row_sparse_adam")
    trainer.train_epoch(1)
    store = CheckpointStore(tmp_path / "checkpoint")
    store.save(trainer, LoopState(epoch=1))
    resumed = trainer_with(tiny_dataset, "row_sparse_adam")
    store.restore(resumed)
    trainer.train_epoch(2)
    resumed.train_epoch(2)
    assert torch.equal(trainer.encoder.item_embedding, resumed.encoder.item_embedding)


def test_row_sparse_adam_refuses_graph_encoders():
    with pytest.raises(ConfigError, match="row-local"):
        TrainConfig(encoder="lightgcn", optimizer="row_sparse_adam")


def test_a_retrain_asking_row_sparse_adam_with_a_graph_encoder_is_refused_up_front():
    from shared.hyperparameters import HyperparameterError, validate_hyperparameters

    assert validate_hyperparameters({"optimizer": "row_sparse_adam"}) == {
        "optimizer": "row_sparse_adam"
    }
    with pytest.raises(HyperparameterError, match="needs a row-local encoder"):
        validate_hyperparameters({"optimizer": "row_sparse_adam", "encoder": "lightgcn"})
