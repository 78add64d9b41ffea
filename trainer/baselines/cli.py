"""``python -m trainer.fit --method als|ease``: fit, evaluate and export a baseline.

Same steps as the multi-task path: validate everything, load the data, fit, score the test
split once, write the bundle atomically; bad input exits 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from shared.bundle import BundleError
from shared.settings import Settings
from trainer.baselines.cache import configured_fit_cache
from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.baselines.ease import check_ease_fits
from trainer.baselines.fit import fit_baseline
from trainer.baselines.flags import BASELINE_OVERRIDES, refuse_foreign_flags
from trainer.data import DatasetError, LoadOptions, load_dataset
from trainer.defaults import default_baseline_config
from trainer.evaluation import RankingEvaluator
from trainer.training import ConfigError

log = logging.getLogger("trainer.fit")


def bundle_extra(result: BaselineResult) -> dict[str, Any]:
    """The manifest entries of a baseline fit, named as the trainer's (an ALS sweep is an
    epoch: ``best_epoch`` is the kept sweep)."""
    return {
        "encoder": result.config.method,
        "tasks": [],
        "best_epoch": result.best_iteration,
        "epochs_run": len(result.history),
        "train_seconds": round(result.seconds, 2),
        "device": result.device,
        **result.details,
    }


def baseline_config(args: argparse.Namespace, ks: tuple[int, ...]) -> BaselineConfig:
    overrides = {
        field: getattr(args, flag)
        for flag, field in BASELINE_OVERRIDES.items()
        if getattr(args, flag) is not None
    }
    return replace(
        default_baseline_config(args.dataset, args.method, args.core or 0),
        eval_ks=ks,
        **overrides,
    )


def fit_baseline_main(
    args: argparse.Namespace,
    settings: Settings,
    load_options: LoadOptions,
    trainer_flags: tuple[str, ...],
    metrics_table: Callable[[dict[str, dict[str, float]], tuple[int, ...]], str],
) -> int:
    """The baseline path of ``python -m trainer.fit``; exit status 2 for bad input."""
    try:
        refuse_foreign_flags(args, trainer_flags)
        ks = tuple(int(k) for k in args.ks.split(","))
        config = baseline_config(args, ks)
        out = Path(args.out or settings.bundle_root / f"{args.dataset}-{args.method}")
        if out.exists() and not args.overwrite:
            raise ConfigError(f"{out} already exists; pass --overwrite to replace it")
        dataset = load_dataset(
            args.dataset,
            args.data_dir or settings.data_dir,
            settings.allow_download and not args.no_download,
            load_options,
        )
        if config.method == "ease":
            rank = config.dim if 0 < config.dim < dataset.num_items else dataset.num_items
            check_ease_fits(dataset.num_items, config.max_memory_gb, dataset.num_users, rank)
    except (ConfigError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    log.info("dataset %s: %s", dataset.name, dataset.stats())
    try:
        result = fit_baseline(dataset, config, configured_fit_cache(settings))
    except ConfigError as error:  # e.g. the implicit package is missing
        print(f"error: {error}", file=sys.stderr)
        return 2
    test = RankingEvaluator(
        dataset.positives("test"),
        *dataset.excluded_csr(config.eval_exclude),
        dataset.num_items,
        ks=ks,
    ).evaluate(*result.torch_vectors())
    metrics = {"val": result.val_metrics, "test": test}
    print(
        f"{config.method}: best sweep {result.best_iteration} of {len(result.history)} "
        f"({result.seconds:.1f}s on {result.device}, {torch.get_num_threads()} thread(s))"
    )
    print(metrics_table(metrics, ks))
    try:
        from trainer.export import export_vectors

        path = export_vectors(
            result.user_vectors,
            result.item_vectors,
            dataset,
            out,
            metrics,
            method=config.method,
            hyperparameters=config.hyperparameters(),
            extra=bundle_extra(result),
            fold_in_vectors=(
                None if result.fold_in_vectors is result.item_vectors else result.fold_in_vectors
            ),
            overwrite=args.overwrite,
            load_options=load_options,
        )
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"bundle written to {path}")
    return 0
