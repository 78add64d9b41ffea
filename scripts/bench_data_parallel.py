"""1 against 2 data-parallel processes: samples/s, efficiency, bytes per step.

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/bench_data_parallel.py [--epochs 2]
    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/bench_data_parallel.py --rankers

For each process count, one torchrun run trains BPR, EW and PMTRec (Office defaults), or with
``--rankers`` MMoE (summed loss, EW, PMTRec) and STEM-Net (EW) on Census-Income (the CLI's
defaults), each rank with the default batch (so 2 ranks take steps of twice the batch), for a
warm-up epoch and ``--epochs`` timed ones, 1 torch thread per rank. samples/s = training
positives (or samples) per epoch / median epoch wall seconds; efficiency = samples/s on 2 ranks
/ (2 x samples/s on 1); bytes per step = the payload one rank hands to the collectives per step
(gloo's all-reduce moves about as much again over the wire). Writes docs/bench/data-parallel.md
(or docs/bench/rank-data-parallel.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "bench" / "data-parallel.md"
RANKERS_OUT = REPO / "docs" / "bench" / "rank-data-parallel.md"
METHODS = ("bpr", "ew", "pmtrec")
# (model, combiner): None is the summed loss.
RANKER_CASES = (("mmoe", None), ("mmoe", "ew"), ("mmoe", "pmtrec"), ("stem", "ew"))


def _timed(trainer, epochs: int) -> dict[str, float]:
    trainer.train_epoch(1)
    seconds = []
    for epoch in range(2, epochs + 2):
        started = time.perf_counter()
        trainer.train_epoch(epoch)
        seconds.append(time.perf_counter() - started)
    return {
        "epoch_s": statistics.median(seconds),
        "bytes_per_step": getattr(trainer, "bytes_per_step", 0.0),
        "batch": trainer.global_batch_size,
    }


def rank_run(out: Path, epochs: int) -> None:
    import torch

    from shared.settings import get_settings
    from trainer.data import load_dataset
    from trainer.defaults import default_config
    from trainer.training.distributed import build_trainer

    torch.set_num_threads(1)
    dataset = load_dataset("office", get_settings().data_dir, allow_download=False)
    results = {}
    for method in METHODS:
        trainer, world = build_trainer(dataset, default_config("office", method), progress=False)
        results[method] = {"positives": trainer.num_positives, **_timed(trainer, epochs)}
    if world.is_main:
        out.write_text(json.dumps(results))


def ranker_rank_run(out: Path, epochs: int) -> None:
    import torch

    from shared.settings import get_settings
    from trainer.ranking.data import load_census
    from trainer.ranking.distributed import build_rank_trainer
    from trainer.ranking.training import RankTrainConfig

    torch.set_num_threads(1)
    dataset = load_census(get_settings().data_dir)
    results = {}
    for model, combiner in RANKER_CASES:
        config = RankTrainConfig(model=model, combiner=combiner)
        trainer, world = build_rank_trainer(dataset, config, progress=False)
        name = f"{model} {combiner or 'summed loss'}"
        results[name] = {"positives": len(dataset.train), **_timed(trainer, epochs)}
    if world.is_main:
        out.write_text(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rankers", action="store_true", help="rankers on Census-Income")
    parser.add_argument("--rank-run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rank_run:
        (ranker_rank_run if args.rankers else rank_run)(args.rank_run, args.epochs)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    extra = ["--rankers"] if args.rankers else []
    runs = {}
    for n in (1, 2):
        out = Path(f"/tmp/bench-data-parallel-{n}.json")
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        command += [f"--nproc_per_node={n}", __file__, "--rank-run", str(out), *extra]
        subprocess.run([*command, "--epochs", str(args.epochs)], check=True, env=env, cwd=REPO)
        runs[n] = json.loads(out.read_text())
    names = list(runs[1])
    lines = [
        "# Data-parallel training: 1 against 2 processes "
        + ("(rankers, Census-Income)" if args.rankers else "(Office)"),
        "",
        f"`PMTREC_DATA_DIR=... .venv/bin/python scripts/bench_data_parallel.py --epochs "
        f"{args.epochs}{' --rankers' if args.rankers else ''}`: torchrun, gloo, 1 torch thread "
        "per rank, on this 2-core machine while other engineers' jobs ran on it (the "
        "machine is shared: read the efficiency as a lower bound, not a property of the "
        "method). Median of the timed epochs after one warm-up epoch.",
        "",
        "| method | ranks | global batch | epoch s | samples/s | efficiency "
        "| KiB sent per step per rank |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for method in names:
        one = runs[1][method]["positives"] / runs[1][method]["epoch_s"]
        for n in (1, 2):
            r = runs[n][method]
            rate = r["positives"] / r["epoch_s"]
            lines.append(
                f"| {method} | {n} | {r['batch']} | {r['epoch_s']:.2f} | {rate:,.0f} | "
                f"{rate / (n * one):.2f} | {r['bytes_per_step'] / 1024:,.1f} |"
            )
    (RANKERS_OUT if args.rankers else OUT).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
