"""Fit a baseline and select it on validation with the product's evaluator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.data import RecDataset
from trainer.evaluation import RankingEvaluator

if TYPE_CHECKING:
    from trainer.baselines.cache import FitCache


def fit_baseline(
    dataset: RecDataset, config: BaselineConfig, cache: FitCache | None = None
) -> BaselineResult:
    """Fit ``config.method`` on the dataset's training positives; its ``val_metrics`` are
    those of the selected model on every validation user. With ``cache``, an ALS fit of the
    same data, settings and seed is loaded from it if there, and stored in it if not."""
    if cache is not None and (cached := cache.load(dataset, config)) is not None:
        return cached
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
    if cache is not None:
        cache.store(dataset, result)
    return result
