"""Acceptance 3: one training epoch and one full-ranking evaluation on the full Epinions
catalogue (22,164 users x 296,277 items, no k-core), timed, with the peak memory.

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/bench_epinions.py [--method pmtrec]

The epoch is one pass over the training positives with the dataset's default tasks (Epinions:
BPR + same_category); the evaluation ranks all 296,277 items for every user that has a
validation positive, as the trainer does after each epoch. Peak memory is the process's
maximum resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Writes
docs/bench/epinions.md. Goals: evaluation < 2 minutes, peak memory < 8 GB.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import torch

from shared.settings import get_settings
from trainer.data import LoadOptions, load_dataset
from trainer.defaults import default_config
from trainer.training import Trainer

EVAL_GOAL_S, MEMORY_GOAL_GB = 120.0, 8.0


def peak_gb() -> float:
    """Peak resident set size so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 30) if sys.platform == "darwin" else peak / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--method", default="pmtrec")
    parser.add_argument("--core", type=int, default=0, help="0: the full catalogue")
    parser.add_argument("--out", type=Path, default=Path("docs/bench/epinions.md"))
    args = parser.parse_args()

    rows = []
    start = time.perf_counter()
    dataset = load_dataset(
        "epinions",
        get_settings().data_dir,
        allow_download=False,
        options=LoadOptions(core=args.core),
    )
    rows.append(("load (read, merge, split, relations)", time.perf_counter() - start, peak_gb()))

    start = time.perf_counter()
    trainer = Trainer(dataset, default_config("epinions", args.method), progress=False)
    rows.append(("build trainer (tables, samplers)", time.perf_counter() - start, peak_gb()))

    start = time.perf_counter()
    losses = trainer.train_epoch(1)
    epoch_s = time.perf_counter() - start
    steps = -(-trainer.num_positives // trainer.config.batch_size)
    rows.append((f"one training epoch ({steps} steps)", epoch_s, peak_gb()))

    start = time.perf_counter()
    metrics = trainer.validate(every_user=True)
    eval_s = time.perf_counter() - start
    evaluated = len(trainer.validator.users)
    rows.append((f"one full-ranking evaluation ({evaluated:,} users)", eval_s, peak_gb()))

    peak = peak_gb()
    lines = [
        f"# Epinions at full scale ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, CPU)",
        "",
        f"`python scripts/bench_epinions.py --method {args.method}`"
        + (f" --core {args.core}" if args.core else "")
        + f": {dataset.num_users:,} users x {dataset.num_items:,} items, "
        f"{trainer.num_positives:,} training positives, tasks "
        f"{', '.join(t.name for t in trainer.tasks)}, MF d={trainer.config.dim}, "
        f"batch {trainer.config.batch_size}.",
        "",
        "| phase | seconds | peak RSS so far (GB) |",
        "|---|---|---|",
        *(f"| {name} | {seconds:.1f} | {memory:.2f} |" for name, seconds, memory in rows),
        "",
        f"- epoch: {epoch_s:.1f} s ({1000 * epoch_s / steps:.0f} ms/step); losses "
        + ", ".join(f"{k} {v:.4f}" for k, v in losses.items()),
        f"- evaluation: {eval_s:.1f} s for {evaluated:,} users "
        f"({1000 * eval_s / evaluated:.2f} ms/user; goal < {EVAL_GOAL_S:.0f} s: "
        f"{'met' if eval_s < EVAL_GOAL_S else 'NOT met'}); val recall@20 after one epoch "
        f"{metrics['recall@20']:.4f}",
        f"- peak memory: {peak:.2f} GB (goal < {MEMORY_GOAL_GB:.0f} GB: "
        f"{'met' if peak < MEMORY_GOAL_GB else 'NOT met'})",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)


if __name__ == "__main__":
    main()
