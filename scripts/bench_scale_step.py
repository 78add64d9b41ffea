"""The training step against the table's size: dense fused Adam against row-sparse Adam.

    .venv/bin/python scripts/bench_scale_step.py [--rows 100000,1000000,10000000] [--steps 20]

One PMTRec step of MF (BPR + the rating task, batch 2048, dim 32) on a synthetic item table of
each size (1,000 users, 20,000 positives touching at most 2,048 items a step): the median
wall and process-CPU seconds of a step, and the peak resident memory of a process that
builds the trainer and runs the steps (each size and optimiser in its own process, so peaks
do not mix). Writes docs/bench/scale-step.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "bench" / "scale-step.md"
USERS, POSITIVES, BATCH, DIM = 1_000, 20_000, 2048, 32


def synthetic(num_items: int):
    from trainer.data import Interactions, RecDataset

    rng = np.random.default_rng(0)
    users = rng.integers(0, USERS, POSITIVES)
    # Interactions on the first 50,000 items: a step touches at most a batch's rows anyway.
    items = rng.integers(0, min(num_items, 50_000), POSITIVES)
    train = Interactions(users, items, np.full(POSITIVES, 5.0, dtype=np.float32))
    held = Interactions(users[:100], items[:100], np.full(100, 5.0, dtype=np.float32))
    # Ids are only counted here; a range stands in for 10^7 strings.
    return RecDataset("synthetic", range(USERS), range(num_items), train, held, held, 3.0)


def one(num_items: int, optimizer: str, steps: int) -> dict:
    from trainer.training import TrainConfig, Trainer

    torch.set_num_threads(1)
    config = TrainConfig(
        method="pmtrec",
        dim=DIM,
        batch_size=BATCH,
        auxiliary_tasks=("rating",),
        optimizer=optimizer,
        device="cpu",
    )
    trainer = Trainer(synthetic(num_items), config, progress=False)
    order = torch.randperm(POSITIVES, generator=torch.Generator().manual_seed(0))
    chunks = order.split(BATCH)
    walls, cpus = [], []
    for step in range(steps + 3):  # 3 warm-up steps
        wall, cpu = time.perf_counter(), time.process_time()
        trainer.step(chunks[step % len(chunks)], 1)
        if step >= 3:
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    return {
        "rows": num_items,
        "optimizer": optimizer,
        "wall_ms": 1000 * statistics.median(walls),
        "cpu_ms": 1000 * statistics.median(cpus),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "table_mib": num_items * DIM * 4 / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="100000,1000000,10000000")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # rows:optimizer, in a child
    args = parser.parse_args()
    if args.one:
        rows, optimizer = args.one.split(":")
        print(json.dumps(one(int(rows), optimizer, args.steps)))
        return
    results = []
    for rows in (int(r) for r in args.rows.split(",")):
        for optimizer in ("adam", "row_sparse_adam"):
            command = [sys.executable, __file__, "--one", f"{rows}:{optimizer}"]
            command += ["--steps", str(args.steps)]
            done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(results[-1], flush=True)
    lines = [
        "# The training step against the table's size",
        "",
        f"`{' '.join(['.venv/bin/python', 'scripts/bench_scale_step.py', *sys.argv[1:]])}` on "
        f"{platform.processor() or platform.machine()}, 1 torch thread, a shared 2-core machine "
        "(other work ran meanwhile: wall times are noisy, CPU times less so). One PMTRec step "
        f"of MF (BPR + rating, batch {BATCH}, dim {DIM}, {USERS:,} users); median of "
        f"{args.steps} steps after 3 warm-up steps; peak RSS of the whole process (Python, "
        "torch, the trainer, the table, its Adam moments and, for dense Adam, its full-size "
        "gradient buffer).",
        "",
        "| item rows | optimiser | step wall ms | step CPU ms | peak RSS MiB | item table MiB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['optimizer']} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} | "
            f"{r['peak_rss_mib']:.0f} | {r['table_mib']:.0f} |"
        )
    OUT.write_text("\n".join(lines) + "\n")
    print(f"written to {OUT}")


if __name__ == "__main__":
    main()
