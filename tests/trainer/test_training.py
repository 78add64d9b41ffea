"""Training mechanics on a tiny synthetic dataset: the fast step, reproducibility, stopping."""

import copy

import pytest
import torch

from tests.trainer.test_combiners import dense_algorithm_1
from trainer.training import ConfigError, TrainConfig, Trainer
from trainer.training.early_stopping import best_epoch, should_stop

AUX = ("align_uniform", "rating")


def make_trainer(dataset, **overrides):
    config = TrainConfig(**{"auxiliary_tasks": AUX, "batch_size": 64, "epochs": 3, **overrides})
    return Trainer(dataset, config, progress=False)


@pytest.mark.parametrize("alpha,tau", [(1.1, 1e-3), (1.0, 1.0)])
def test_training_step_equals_dense_algorithm_1(tiny_dataset, alpha, tau):
    """One real step: the row-sparse trainer vs autograd on whole tables + dense Algorithm 1."""
    trainer = make_trainer(tiny_dataset, method="pmtrec", alpha=alpha, tau=tau)
    encoder = trainer.encoder
    before = copy.deepcopy(encoder.state_dict())
    state = trainer.generator.get_state()
    index = torch.arange(64)
    epoch = 3

    trainer.step(index, epoch)
    fast = torch.cat([encoder.user_embedding.grad, encoder.item_embedding.grad]).double()

    encoder.load_state_dict(before)
    trainer.generator.set_state(state)
    batches = [task.sample(index, trainer.generator) for task in trainer.tasks]
    tables = (encoder.user_embedding, encoder.item_embedding)
    dense = []
    for task, batch in zip(trainer.tasks, batches):
        loss = task.loss(*encoder(*tables), batch)
        dense.append(torch.cat(torch.autograd.grad(loss, tables)).double().numpy())
    expected = dense_algorithm_1(dense, alpha, tau, epoch)

    assert fast.abs().sum() > 0
    assert (fast.numpy() - expected).__abs__().max() <= 1e-6


def test_reused_gradient_table_holds_only_the_current_steps_rows(tiny_dataset, monkeypatch):
    """The row gradient table is reused across steps: a step's gradient must equal the one a
    fresh table gives, with the previous step's rows cleared."""
    trainers = [make_trainer(tiny_dataset, method="pmtrec", alpha=1.1, tau=1e-3) for _ in "ab"]
    for trainer in trainers:  # keep parameters fixed so both see the same tables
        monkeypatch.setattr(trainer.optimizer, "step", lambda: None)
    reused, fresh = trainers
    reused.step(torch.arange(0, 64), 1)
    first = reused.encoder.item_embedding.grad.clone()
    state = reused.generator.get_state()
    reused.step(torch.arange(64, 128), 2)
    fresh.generator.set_state(state)
    fresh.step(torch.arange(64, 128), 2)
    for name in ("user_embedding", "item_embedding"):
        got = getattr(reused.encoder, name).grad
        assert torch.equal(got, getattr(fresh.encoder, name).grad)
    assert not torch.equal(first, reused.encoder.item_embedding.grad)


def test_same_seed_same_model(tiny_dataset):
    first = make_trainer(tiny_dataset, seed=3).fit()
    second = make_trainer(tiny_dataset, seed=3).fit()
    other = make_trainer(tiny_dataset, seed=4).fit()
    assert torch.equal(first.encoder.user_embedding, second.encoder.user_embedding)
    assert first.val_metrics == second.val_metrics
    assert not torch.equal(first.encoder.user_embedding, other.encoder.user_embedding)


@pytest.mark.parametrize("method", ["pmtrec", "ew", "bpr", "pcgrad", "cagrad"])
@pytest.mark.parametrize("encoder", ["mf", "lightgcn", "ngcf"])
def test_every_method_and_encoder_trains(tiny_dataset, method, encoder):
    result = make_trainer(tiny_dataset, method=method, encoder=encoder, alpha=1.1, tau=1e-3).fit()
    assert 1 <= result.best_epoch <= 3
    assert len(result.history) == 3
    expected_tasks = {"bpr"} if method == "bpr" else {"bpr", "align_uniform", "rating"}
    assert set(result.history[0].losses) == expected_tasks
    assert 0.0 <= result.val_metrics["recall@20"] <= 1.0


def test_best_epoch_is_restored(tiny_dataset):
    trainer = make_trainer(tiny_dataset, epochs=6, lr=0.05)
    result = trainer.fit()
    assert trainer.validate() == result.history[result.best_epoch - 1].val


def test_early_stopping_rule():
    assert best_epoch([0.1, 0.3, 0.3, 0.2]) == 2
    assert not should_stop([0.1, 0.3, 0.2], patience=2)
    assert should_stop([0.1, 0.3, 0.2, 0.2], patience=2)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", 0.0, "lr must be > 0"),
        ("alpha", 0.99, "alpha must be >= 1"),
        ("tau", 0.0, "tau must be > 0"),
        ("eval_ks", (0, 20), "every k must be > 0"),
        ("val_users", -1, r"val_users must be in \[0, 10000000\]"),
        ("dim", 10**12, r"dim must be in \[1, 4096\]"),
        ("seed", 2**200, r"seed must be in \[0, 4294967295\]"),
        ("link_ratio", 0.0, r"link_ratio must be in \(0, 1\]"),
        ("link_ratio", 1.5, r"link_ratio must be in \(0, 1\]"),
        ("method", "sgd", "valid names: pmtrec, ew, bpr"),
    ],
)
def test_invalid_configuration_is_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{field: value})


def test_monitoring_a_user_sample_reports_the_best_model_on_every_user(tiny_dataset):
    sampled = make_trainer(tiny_dataset, val_users=4, seed=2)
    assert len(sampled.monitor.users) == 4 < len(sampled.validator.users)
    result = sampled.fit()
    assert result.val_metrics == sampled.validate(every_user=True)
    assert result.val_metrics != result.history[result.best_epoch - 1].val
    # Without a sample the monitored numbers are the reported ones.
    whole = make_trainer(tiny_dataset, seed=2).fit()
    assert whole.val_metrics == whole.history[whole.best_epoch - 1].val
