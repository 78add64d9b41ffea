"""Train a multi-task ranker: ``python -m trainer.rank --dataset census --model stem``.

Datasets: ``census`` (UCI Census-Income under ``PMTREC_DATA_DIR``; ``--numeric`` how its 7
numeric fields enter, default ``both``, the protocol of the Census table), or ``csv`` with
``--samples FILE --schema SCHEMA.json`` (trainer/ranking/data/samples_csv.py). Models: the
names of trainer.ranking.models.RANKERS; ``--combiner NAME`` trains the shared parameters
through a gradient combiner (``--model mmoe --combiner pmtrec``). Prints a per-task table of
validation (best epoch) and test AUC / log-loss (and gAUC with a user id), and writes the
ranker as an ONNX ranking bundle to ``--out``. Bad input exits with status 2.

Data-parallel: ``torchrun --standalone --nproc_per_node N -m trainer.rank ...`` (each rank takes
``--batch-size`` samples of every step; rank 0 prints and writes the bundle;
trainer/ranking/distributed.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import torch

from shared.bundle import BundleError
from shared.settings import get_settings
from trainer.combiners import COMBINERS
from trainer.data.sources import DatasetError
from trainer.ranking.data import load_census, load_samples_csv
from trainer.ranking.data.census import NUMERIC_MODES
from trainer.ranking.distributed import build_rank_trainer
from trainer.ranking.models import RANKERS, RankerConfig
from trainer.ranking.samples import RankingDataset
from trainer.ranking.training import RankTrainConfig

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.rank",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", choices=("census", "csv"), default="census")
    parser.add_argument("--model", default="mmoe", help=f"one of: {', '.join(RANKERS)}")
    parser.add_argument("--combiner", help=f"one of: {', '.join(COMBINERS)}")
    parser.add_argument("--samples", type=Path, help="samples CSV (--dataset csv)")
    parser.add_argument("--schema", type=Path, help="schema JSON (--dataset csv)")
    parser.add_argument("--skip-bad-rows", action="store_true")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--limit", type=int, help="census: read only the first rows per file")
    parser.add_argument(
        "--numeric",
        choices=NUMERIC_MODES,
        help="census: numeric fields as embedded numbers, categories, or both (default: both)",
    )
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.0, help="Adam L2 (0)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="architecture option (RankerConfig field), e.g. --option levels=2",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", type=Path, help="bundle folder (default under bundle_root)")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def _ranker_config(options: list[str]) -> RankerConfig:
    values = {}
    for option in options:
        name, sep, text = option.partition("=")
        if not sep:
            raise ValueError(f"--option {option!r}: expected NAME=VALUE")
        try:
            values[name] = json.loads(text)
        except ValueError:
            raise ValueError(f"--option {option!r}: the value is not JSON") from None
    return RankerConfig.from_dict(values)


def _load(args: argparse.Namespace, data_dir: Path) -> RankingDataset:
    if args.dataset == "census":
        if args.samples or args.schema:
            raise ValueError("--samples and --schema go with --dataset csv")
        return load_census(data_dir, limit=args.limit, numeric=args.numeric or "both")
    if args.numeric:
        raise ValueError("--numeric goes with --dataset census")
    if not args.samples or not args.schema:
        raise ValueError("--dataset csv needs --samples FILE and --schema FILE")
    return load_samples_csv(args.samples, args.schema, skip_bad_rows=args.skip_bad_rows)


def results_table(tasks: tuple[str, ...], metrics: dict[str, dict[str, float]]) -> str:
    columns = [c for c in ("auc", "logloss", "gauc") if f"{tasks[0]}:{c}" in metrics["test"]]
    lines = [f"{'task':<20}" + "".join(f"{s + ' ' + c:>14}" for s in metrics for c in columns)]
    for task in tasks:
        lines.append(
            f"{task:<20}"
            + "".join(f"{metrics[s][f'{task}:{c}']:>14.4f}" for s in metrics for c in columns)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(max(1, args.threads))
    settings = get_settings()
    try:
        if args.model not in RANKERS:
            raise ValueError(f"unknown model '{args.model}'; valid names: {', '.join(RANKERS)}")
        config = RankTrainConfig(
            model=args.model,
            lr=args.lr,
            weight_decay=args.weight_decay,
            batch_size=args.batch_size,
            epochs=args.epochs,
            patience=args.patience,
            seed=args.seed,
            combiner=args.combiner,
            ranker=_ranker_config(args.option),
        )
        label = args.model + (f"-{args.combiner}" if args.combiner else "")
        out = args.out or settings.bundle_root / f"rank-{args.dataset}-{label}"
        if out.exists() and not args.overwrite:
            raise ValueError(f"{out} already exists; pass --overwrite to replace it")
        dataset = _load(args, args.data_dir or settings.data_dir)
        trainer, world = build_rank_trainer(dataset, config, progress=not args.no_progress)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if world.is_main:
        log.info("dataset %s: %s", dataset.name, dataset.stats())
    result = trainer.fit()
    if not world.is_main:
        return 0
    metrics = {"val": result.val_metrics, "test": result.test_metrics}
    print(
        f"{result.model!r}: best epoch {result.best_epoch} of {len(result.history)}, "
        f"{result.seconds_per_epoch:.1f}s per epoch"
    )
    print(results_table(dataset.schema.tasks, metrics))
    try:
        from trainer.ranking.export import export_ranking_bundle

        hyperparameters = config.to_dict()
        if args.dataset == "census":
            hyperparameters["census_numeric"] = args.numeric or "both"
        path = export_ranking_bundle(
            result.model, dataset, out, metrics, hyperparameters, overwrite=args.overwrite
        )
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"ranking bundle written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
