"""Train a model on a dataset, evaluate it with full ranking and export a bundle.

    python -m trainer.fit --dataset office                      # tuned defaults, EW from ALS
    python -m trainer.fit --dataset office --method pmtrec --seed 1 --out bundles/office-pm
    python -m trainer.fit --dataset office --method als         # ALS-128 (implicit), seconds
    python -m trainer.fit --dataset office --method ease        # EASE, closed form
    python -m trainer.fit --dataset office --resume   # continue after a crash or a kill
    python -m trainer.fit --dataset tmall --ranker mmoe   # two stages: retrieval + ranker
    torchrun --standalone --nproc_per_node 2 -m trainer.fit --dataset office   # data-parallel

Training saves its state after every epoch (--checkpoint-dir, default: the bundle folder's
name with ".checkpoint" appended); --resume continues from the last finished epoch with the
same result as an uninterrupted run on CPU. The checkpoint is removed once the bundle is
written.

Exit status 2 for bad input (unknown names, invalid hyper-parameters, missing or corrupt
data files); nothing is written in that case.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from shared.components import TRAINING, load_option_params, training_params
from shared.settings import get_settings
from trainer.baselines import BASELINE_METHODS
from trainer.baselines.flags import add_baseline_arguments, refuse_foreign_flags
from trainer.names import DATASET_NAMES, METHOD_NAMES, add_param_arguments, default_method

if TYPE_CHECKING:
    from trainer.data import LoadOptions

# torch and everything that loads it are imported in main() once the arguments are parsed,
# so that --help and argument errors answer at once.

log = logging.getLogger("trainer.fit")

# CLI flag -> TrainConfig field, for the hyper-parameters a user may override: every
# declared one (shared/components.py).
_OVERRIDES = tuple(training_params())
_LOAD_OPTIONS = load_option_params()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.fit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", default="office", choices=sorted(DATASET_NAMES))
    parser.add_argument(
        "--method",
        choices=[*METHOD_NAMES, *BASELINE_METHODS],
        help="default: the dataset's own (Office: see docs/results.md), else pmtrec",
    )
    parser.add_argument(
        "--tasks",
        help="comma-separated auxiliary tasks to train with (default: all of the dataset's)",
    )
    add_param_arguments(parser.add_argument_group("hyper-parameters"), TRAINING)
    add_param_arguments(
        parser.add_argument_group("method, encoder and task hyper-parameters"),
        [p for name, p in training_params().items() if p not in TRAINING],
    )
    parser.add_argument("--ks", default="5,10,20,40", help="cut-offs for the metrics")
    parser.add_argument("--out", type=Path, help="bundle folder (default: under the bundle root)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the checkpoint of an interrupted run (same flags; from scratch if "
        "there is none)",
    )
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        help="where the per-epoch state goes (default: OUT.checkpoint)",
    )
    parser.add_argument("--data-dir", type=Path, help="default: $PMTREC_DATA_DIR")
    parser.add_argument("--no-download", action="store_true", help="never fetch missing files")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_baseline_arguments(parser)
    two_stage = parser.add_argument_group("ranking stage (see docs/ranking.md, Two stages)")
    two_stage.add_argument(
        "--ranker", help="also train this ranker (mmoe, stem, drgrad, ...): a two-stage bundle"
    )
    two_stage.add_argument("--negative-ratio", type=int, help="ranker negatives per positive")
    two_stage.add_argument("--ranker-epochs", type=int, help="ranker epochs (maximum)")
    parser.add_argument(
        "--collective-timeout",
        type=float,
        default=300.0,
        help="under torchrun: seconds a rank waits for its peers before the run fails",
    )
    add_param_arguments(
        parser.add_argument_group("dataset options (see docs/datasets.md)"),
        _LOAD_OPTIONS.values(),
    )
    return parser


def _load_options(args: argparse.Namespace) -> LoadOptions:
    from trainer.data import LoadOptions

    given = {name: getattr(args, name) for name in _LOAD_OPTIONS}
    return LoadOptions(**{name: value for name, value in given.items() if value is not None})


def _metrics_table(metrics: dict[str, dict[str, float]], ks: tuple[int, ...]) -> str:
    lines = [
        f"{'split':<6}"
        + "".join(f"{n + '@' + str(k):>11}" for k in ks for n in ("recall", "ndcg", "hit"))
    ]
    for split, values in metrics.items():
        lines.append(
            f"{split:<6}"
            + "".join(f"{values[f'{n}@{k}']:>11.4f}" for k in ks for n in ("recall", "ndcg", "hit"))
        )
    return "\n".join(lines)


def _ranker_stage(args: argparse.Namespace):
    """The ranking stage the flags ask for (trainer.twostage.RankerStage), or None."""
    if args.ranker is None:
        given = [f for f in ("negative_ratio", "ranker_epochs") if getattr(args, f) is not None]
        if given:
            raise ValueError(f"--{given[0].replace('_', '-')} needs --ranker")
        return None
    from shared.registry import RANKERS
    from trainer.twostage import RankerStage

    RANKERS.get(args.ranker)  # ValueError naming the valid ones
    values = {"model": args.ranker, "seed": args.seed or 0}
    if args.negative_ratio is not None:
        values["negative_ratio"] = args.negative_ratio
    if args.ranker_epochs is not None:
        values["epochs"] = args.ranker_epochs
    stage = RankerStage(**values)
    stage.train_config()  # refuses bad settings before the data loads
    return stage


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return _run(args)
    except BaseException as error:
        # An interrupt may surface wrapped: a library that was writing (torch.save of the
        # epoch's checkpoint) fails while unwinding and raises its own error from it.
        if not _caused_by_interrupt(error):
            raise
        # The bundle is written to a staging folder and renamed into place, so an interrupt
        # leaves either the complete new bundle or whatever was there before.
        # One line, on a line of its own when a progress bar was drawn on the terminal.
        start = "\n" if sys.stderr.isatty() else ""
        print(
            f"{start}interrupted: stopped, no bundle written (an existing one is unchanged)",
            file=sys.stderr,
            flush=True,
        )
        return 130


def _caused_by_interrupt(error: BaseException | None) -> bool:
    """Whether ``error`` is a KeyboardInterrupt or was raised while one unwound."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _run(args: argparse.Namespace) -> int:
    from shared.bundle import BundleError
    from trainer.data import DatasetError, load_dataset
    from trainer.defaults import (
        dataset_auxiliary_tasks,
        default_config,
        select_auxiliary_tasks,
    )
    from trainer.evaluation import RankingEvaluator
    from trainer.training import CheckpointStore, ConfigError
    from trainer.training.distributed import build_trainer

    settings = get_settings()
    if args.method is None:
        args.method = default_method(args.dataset)
    if args.method in BASELINE_METHODS:
        from trainer.baselines.cli import fit_baseline_main

        if args.ranker is not None:
            print(
                f"error: --ranker needs a trained method, not --method {args.method}",
                file=sys.stderr,
            )
            return 2
        return fit_baseline_main(args, settings, _load_options(args), _OVERRIDES, _metrics_table)
    data_dir = args.data_dir or settings.data_dir
    try:
        refuse_foreign_flags(args, _OVERRIDES)
        ks = tuple(int(k) for k in args.ks.split(","))
        stage = _ranker_stage(args)
        overrides = {f: getattr(args, f) for f in _OVERRIDES if getattr(args, f) is not None}
        config = replace(
            default_config(args.dataset, args.method, args.core or 0), eval_ks=ks, **overrides
        )
        out = args.out or settings.bundle_root / f"{args.dataset}-{args.method}"
        if out.exists() and not args.overwrite:
            raise ConfigError(f"{out} already exists; pass --overwrite to replace it")
        checkpoints = CheckpointStore(
            args.checkpoint_dir or out.with_name(f"{out.name}.checkpoint")
        )
        if checkpoints.exists() and not args.resume:
            raise ConfigError(
                f"{checkpoints.folder} holds the checkpoint of an interrupted run: pass --resume "
                "to continue it, or remove the folder to start over"
            )
        load_options = _load_options(args)
        dataset = load_dataset(
            args.dataset, data_dir, settings.allow_download and not args.no_download, load_options
        )
        if args.tasks is not None:
            config = replace(config, auxiliary_tasks=select_auxiliary_tasks(dataset, args.tasks))
        elif dataset.behaviors:
            config = replace(config, auxiliary_tasks=dataset_auxiliary_tasks(dataset))
        trainer, world = build_trainer(
            dataset,
            config,
            args.collective_timeout,
            progress=not args.no_progress,
            checkpoints=checkpoints,
        )
    except (ConfigError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    log.info("dataset %s: %s", dataset.name, dataset.stats())
    try:
        result = trainer.fit()
    except ConfigError as error:  # a checkpoint of another run (other flags or data)
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not world.is_main:  # under torchrun rank 0 tests the model and writes the bundle
        return 0
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"),
        *dataset.excluded_csr(config.eval_exclude),
        dataset.num_items,
        ks=ks,
    ).evaluate(users, items)
    metrics = {"val": result.val_metrics, "test": test}
    print(
        f"best epoch {result.best_epoch} of {len(result.history)} "
        f"({result.seconds:.1f}s on {result.device})"
    )
    print(_metrics_table(metrics, ks))
    ranker = None
    if stage is not None:
        from trainer.twostage import fit_ranker_stage, two_stage_table

        ranker = fit_ranker_stage(dataset, users, items, stage, progress=not args.no_progress)
        print(two_stage_table(ranker))
    try:
        from trainer.export import export_bundle

        path = export_bundle(
            result,
            dataset,
            out,
            metrics,
            overwrite=args.overwrite,
            load_options=load_options,
            ranker=ranker,
        )
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    checkpoints.remove()
    print(f"bundle written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
