"""Fit a baseline and select it on validation with the product's evaluator."""

from __future__ import annotations

from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.data import RecDataset
from trainer.evaluation import RankingEvaluator


def fit_baseline(dataset: RecDataset, config: BaselineConfig) -> BaselineResult:
    """Fit ``config.method`` on the dataset's training positives; its ``val_metrics`` are
    those of the selected model on every validation user."""
    from trainer.baselines.als import fit_als
    from trainer.baselines.ease import fit_ease

    exclude = dataset.excluded_csr(config.eval_exclude)
    validator = RankingEvaluator(
        dataset.positives("val"), *exclude, dataset.num_items, ks=config.eval_ks
    )
    monitor = validator.sample(config.val_users, config.seed) if config.val_users else validator
    fit = fit_als if config.method == "als" else fit_ease
    result = fit(dataset, config, monitor)
    result.val_metrics = validator.evaluate(*result.torch_vectors())
    return result
