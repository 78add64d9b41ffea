"""Ranker training speed on Census-Income: samples per second per architecture, and each
one's time per epoch over MMoE's (DRGrad's paper: +1.5%; the goal here is <= 1.3x).

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/bench_ranking.py [--batches 30]

Not a test. Each round trains every architecture for ``--batches`` batches of the
experiments' size, interleaved, so their ratios hold on a noisy machine; the process CPU time
(one torch thread) is reported beside wall time because it is far less sensitive to other
load. Prints a Markdown table and appends it to docs/bench/ranking.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from shared.settings import get_settings
from trainer.ranking.data.census import NUMERIC_MODES, load_census
from trainer.ranking.experiments import ENTRIES, config_of
from trainer.ranking.training import RankTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--expert-dims", help="expert widths, e.g. 256,128 (default: the experiments' [16])"
    )
    parser.add_argument(
        "--numeric", choices=NUMERIC_MODES, default="both", help="Census numeric mode (the table's)"
    )
    parser.add_argument("--out", type=Path, default=Path("docs/bench/ranking.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_census(get_settings().data_dir, numeric=args.numeric)
    overrides = {}
    if args.expert_dims:
        overrides["expert_dims"] = tuple(int(w) for w in args.expert_dims.split(","))
    trainers = {
        e: RankTrainer(dataset, config_of(e, 3e-3, 0, overrides), progress=False) for e in ENTRIES
    }
    size = next(iter(trainers.values())).config.batch_size
    categorical, numeric, labels = next(iter(trainers.values())).train_tensors
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    batches = [order[i * size : (i + 1) * size] for i in range(args.batches)]
    times: dict[str, dict[str, list[float]]] = {e: {"wall": [], "cpu": []} for e in trainers}

    def train(trainer: RankTrainer) -> None:
        for index in batches:
            trainer.optimizer.zero_grad(set_to_none=True)
            batch = (categorical[index], numeric[index], labels[index])
            if trainer.combiner is None:
                trainer.model.backward(*batch, 1)
            else:
                from trainer.ranking.combined import combined_backward

                combined_backward(trainer.model, trainer.combiner, *batch, 1)
            trainer.optimizer.step()

    for trainer in trainers.values():  # warm-up, not timed
        train(trainer)
    for _ in range(args.rounds):
        for entry, trainer in trainers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            train(trainer)
            times[entry]["wall"].append(time.perf_counter() - wall)
            times[entry]["cpu"].append(time.process_time() - cpu)
    samples = args.batches * size
    base = statistics.median(times["mmoe"]["cpu"])
    widths = list(trainers["mmoe"].config.ranker.expert_dims)
    lines = [
        f"Census-Income training speed, experts {widths}, numeric mode {args.numeric}, "
        f"batch {size}, {args.batches} batches x {args.rounds} "
        f"rounds (medians), 1 torch thread, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}.",
        "",
        "| model | samples/s (CPU time) | samples/s (wall) | time per epoch / MMoE's |",
        "|---|---|---|---|",
    ]
    for entry, measured in times.items():
        cpu, wall = statistics.median(measured["cpu"]), statistics.median(measured["wall"])
        lines.append(
            f"| {entry} | {samples / cpu:,.0f} | {samples / wall:,.0f} | {cpu / base:.2f}x |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as out:  # one table per configuration measured
        out.write(text + "\n")


if __name__ == "__main__":
    main()
