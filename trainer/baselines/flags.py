"""The command-line flags of ALS and EASE, and the refusal of flags a method does not read.

The multi-task trainer's flags that mean nothing to a baseline (learning rate, tasks, epochs,
...) are refused rather than silently ignored, and the baselines' flags likewise with the
multi-task methods. Imports nothing heavy: trainer.fit builds its parser from it.
"""

from __future__ import annotations

import argparse

from shared.components import TRAINING
from trainer.baselines import BASELINE_METHODS, INPUTS

# CLI flag -> BaselineConfig field.
BASELINE_OVERRIDES = {
    "seed": "seed",
    "device": "device",
    "val_users": "val_users",
    "eval_exclude": "eval_exclude",
    "dim": "dim",
    "reg": "reg",
    "confidence": "confidence",
    "iterations": "iterations",
    "inputs": "inputs",
    "ease_max_gb": "max_memory_gb",
}
# Flags only the baselines read (refused with the multi-task methods): those of the
# mapping that the training loop does not have.
BASELINE_ONLY = tuple(flag for flag in BASELINE_OVERRIDES if flag not in {p.name for p in TRAINING})


def add_baseline_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ALS and EASE (--method als|ease; see docs/training.md)")
    group.add_argument("--reg", type=float, help="L2 regularisation (ALS 300, EASE 500)")
    group.add_argument(
        "--confidence", type=float, help="ALS confidence weight of a positive (alpha, 100)"
    )
    group.add_argument("--iterations", type=int, help="ALS sweeps, best on validation kept")
    group.add_argument(
        "--inputs",
        choices=INPUTS,
        help="training interactions the matrix holds: all ratings (default) or positives only",
    )
    group.add_argument(
        "--ease-max-gb",
        type=float,
        help="EASE refuses catalogues whose item-item matrices need more (default 4)",
    )


def refuse_foreign_flags(args: argparse.Namespace, trainer_flags: tuple[str, ...]) -> None:
    """ConfigError naming the flags given that the chosen method does not read."""
    if args.method in BASELINE_METHODS:
        foreign = [f for f in trainer_flags if f not in BASELINE_OVERRIDES]
        foreign += ["tasks"]
    else:
        foreign = list(BASELINE_ONLY)
    given = [f"--{f.replace('_', '-')}" for f in foreign if getattr(args, f, None) is not None]
    if given:
        from trainer.training import ConfigError

        raise ConfigError(f"{', '.join(given)} does not apply to --method {args.method}")
