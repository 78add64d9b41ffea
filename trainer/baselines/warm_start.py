"""Start a multi-task model from ALS factors (``--init als``).

ALS reaches in seconds what BPR-MF reaches in minutes, and better; the tasks then fine-tune
its factors with the product's combiners. Comparing ``--method pmtrec --init als`` with
``--method bpr --init als`` shows what the auxiliary tasks add on this strong base.
"""

from __future__ import annotations

import logging

import torch

from trainer.baselines.cache import FitCache, configured_fit_cache
from trainer.baselines.config import BaselineConfig
from trainer.baselines.fit import fit_baseline
from trainer.data import RecDataset
from trainer.encoders import Encoder
from trainer.training.config import ConfigError, TrainConfig

log = logging.getLogger(__name__)


def warm_start_config(dataset: RecDataset, config: TrainConfig) -> BaselineConfig:
    """The ALS fit a warm start uses: the dataset's ALS defaults at the model's size, seed,
    device, validation monitor and evaluation protocol."""
    from trainer.defaults import default_baseline_config

    try:
        base = default_baseline_config(dataset.name, "als")
    except ConfigError:  # a dataset without defaults (tests' synthetic ones)
        base = BaselineConfig(method="als")
    return BaselineConfig(
        **{
            **base.hyperparameters(),
            "dim": config.dim,
            "seed": config.seed,
            "device": config.device,
            "val_users": config.val_users or base.val_users,
            "eval_ks": config.eval_ks,
            "eval_exclude": config.eval_exclude,
        }
    )


@torch.no_grad()
def initialise_from_als(
    encoder: Encoder,
    dataset: RecDataset,
    config: TrainConfig,
    cache: FitCache | None = None,
) -> None:
    """Overwrite the encoder's embedding tables with the factors of an ALS fit (loaded from
    ``cache``, by default the one ``PMTREC_FIT_CACHE_DIR`` names, when it holds this fit)."""
    if not encoder.row_local:
        raise ConfigError(
            f"--init als needs the mf encoder (ALS factors are final vectors), got "
            f"'{config.encoder}'"
        )
    if cache is None:
        cache = configured_fit_cache()
    result = fit_baseline(dataset, warm_start_config(dataset, config), cache)
    encoder.user_embedding.copy_(torch.from_numpy(result.user_vectors))
    encoder.item_embedding.copy_(torch.from_numpy(result.item_vectors))
    log.info(
        "initialised from ALS (%d factors, best sweep %d): val recall@20 %.4f ndcg@20 %.4f",
        config.dim,
        result.best_iteration,
        result.val_metrics["recall@20"],
        result.val_metrics["ndcg@20"],
    )
