"""``--init als``: a multi-task model starts from the factors of an ALS fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from trainer.baselines.fit import fit_baseline
from trainer.baselines.warm_start import warm_start_config
from trainer.training import ConfigError, TrainConfig, Trainer

CONFIG = TrainConfig(
    method="pmtrec",
    auxiliary_tasks=("align_uniform", "rating"),
    dim=8,
    batch_size=64,
    epochs=2,
    init="als",
)


def test_tables_start_as_the_als_factors(tiny_dataset):
    trainer = Trainer(tiny_dataset, CONFIG, progress=False)
    als = fit_baseline(tiny_dataset, warm_start_config(tiny_dataset, CONFIG))
    assert als.user_vectors.shape == (tiny_dataset.num_users, CONFIG.dim)
    np.testing.assert_array_equal(trainer.encoder.user_embedding.detach().numpy(), als.user_vectors)
    np.testing.assert_array_equal(trainer.encoder.item_embedding.detach().numpy(), als.item_vectors)
    # The starting point scores what ALS scores on validation.
    assert trainer.validate(every_user=True) == pytest.approx(als.val_metrics)
    # A random start differs, and training moves the warm start.
    cold = Trainer(tiny_dataset, replace(CONFIG, init="xavier"), progress=False)
    assert not torch.equal(cold.encoder.user_embedding, trainer.encoder.user_embedding)
    before = trainer.encoder.item_embedding.detach().clone()
    trainer.fit()
    assert not torch.equal(before, trainer.encoder.item_embedding.detach())


def test_warm_start_fits_als_at_the_model_size_and_seed(tiny_dataset):
    als = warm_start_config(tiny_dataset, replace(CONFIG, dim=16, seed=3))
    assert (als.method, als.dim, als.seed) == ("als", 16, 3)


def test_warm_start_selects_als_under_the_models_protocol(tiny_dataset):
    """The ALS start is chosen with the items the model's own evaluation leaves out."""
    config = replace(CONFIG, eval_exclude="seen")
    assert warm_start_config(tiny_dataset, config).eval_exclude == "seen"
    trainer = Trainer(tiny_dataset, config, progress=False)
    assert torch.equal(
        trainer.validator.exclude_indices, torch.from_numpy(tiny_dataset.seen_csr()[1])
    )
    with pytest.raises(ConfigError, match="eval_exclude must be one of positives, seen"):
        replace(CONFIG, eval_exclude="all")


def test_warm_start_needs_mf_and_a_known_init(tiny_dataset):
    with pytest.raises(ConfigError, match="--init als needs the mf encoder"):
        Trainer(tiny_dataset, replace(CONFIG, encoder="lightgcn"), progress=False)
    with pytest.raises(ConfigError, match="init must be one of xavier, als"):
        replace(CONFIG, init="svd")
