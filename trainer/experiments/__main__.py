"""Command line of the experiments: ``python -m trainer.experiments ARTEFACT --dataset NAME``.

    python -m trainer.experiments table2 --dataset office                 # full run
    python -m trainer.experiments curves --dataset office                 # reuses table2's runs
    python -m trainer.experiments ablation --dataset office --max-epochs 2 --seeds 0 \\
        --budget 1 --out /tmp/exp-smoke                                   # smoke run

Every run is recorded in <out>/<dataset>/runs.jsonl as soon as it finishes; a rerun (of any
artefact) reuses what is recorded. Exit status 2 for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from shared.settings import get_settings
from trainer.data import DATASETS, DatasetError
from trainer.experiments import ARTEFACTS, TABLE2_METHODS, Experiment, NamedDataset, run_artefact
from trainer.tasks import AUXILIARY_TASKS
from trainer.training import ConfigError


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got '{text}'"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.experiments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("artefact", choices=list(ARTEFACTS))
    parser.add_argument(
        "--dataset", default="office", choices=sorted(set(DATASETS) & set(AUXILIARY_TASKS))
    )
    parser.add_argument(
        "--seeds", type=_ints, default=(0, 1, 2), help="default 0,1,2; the first tunes"
    )
    parser.add_argument("--budget", type=int, default=4, help="tuning runs per method (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--max-epochs", type=int, help="cap on epochs per run (smoke runs)")
    parser.add_argument("--methods", help=f"comma-separated (default: {','.join(TABLE2_METHODS)})")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="default: reports")
    parser.add_argument("--data-dir", type=Path, help="default: $PMTREC_DATA_DIR")
    return parser


def command_line(args: argparse.Namespace) -> str:
    """The command, normalised, for the reports (what reproduces them)."""
    parts = [
        "python -m trainer.experiments",
        args.artefact,
        f"--dataset {args.dataset}",
        f"--seeds {','.join(map(str, args.seeds))}",
        f"--budget {args.budget}",
        f"--workers {args.workers}",
    ]
    if args.max_epochs is not None:
        parts.append(f"--max-epochs {args.max_epochs}")
    if args.methods:
        parts.append(f"--methods {args.methods}")
    if args.device != "cpu":
        parts.append(f"--device {args.device}")
    parts.append(f"--out {args.out}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    settings = get_settings()
    source = NamedDataset(args.dataset, args.data_dir or settings.data_dir, settings.allow_download)
    started = time.perf_counter()
    try:
        experiment = Experiment(
            source=source,
            out=args.out,
            seeds=args.seeds,
            budget=args.budget,
            workers=args.workers,
            max_epochs=args.max_epochs,
            device=args.device,
            methods=tuple(args.methods.split(",")) if args.methods else TABLE2_METHODS,
            command=command_line(args),
        )
        experiment.config("pmtrec")  # validates the settings before any work starts
        source.load()  # fails early (and downloads, where allowed) before workers start
        written = run_artefact(args.artefact, experiment)
    except (ConfigError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    minutes = (time.perf_counter() - started) / 60
    print(
        f"{args.artefact}: {experiment.executor.new_runs} new runs, "
        f"{experiment.executor.reused} reused, {minutes:.1f} min; wrote "
        + ", ".join(map(str, written)),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
