"""How much Census-Income's validation/test cut moves a ranker's test AUC, and how many
held-out rows carry a value unseen in training (the two torch-rechub protocol differences
that need no retraining: its unseeded, income-stratified 1:1 cut and its vocabularies fit on
train + test).

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/census_cut_spread.py [--cuts 200]

Trains one ranker (default: the Census table's MMoE at its picked point, seed 0), scores the
whole test file once, then computes the income and never-married AUC of one half over
``--cuts`` random 1:1 cuts, plain and stratified by income. Prints a Markdown table. Not a
test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from shared.settings import get_settings
from trainer.ranking.data.census import load_census
from trainer.ranking.experiments import read_records, tuned_point, tuning_config
from trainer.ranking.metrics import auc
from trainer.ranking.training import RankTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entry", default="mmoe")
    parser.add_argument("--cuts", type=int, default=200)
    parser.add_argument("--records", default="docs/ranking/census-runs.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_census(get_settings().data_dir, numeric="both")
    point = tuned_point(args.entry, read_records(Path(args.records)), "both")
    result = RankTrainer(dataset, tuning_config(args.entry, point, 0), progress=False).fit()
    held_out = [dataset.val, dataset.test]
    categorical = np.concatenate([s.categorical for s in held_out])
    numeric = np.concatenate([s.numeric for s in held_out])
    labels = np.concatenate([s.labels for s in held_out])
    scores = result.model.predict(torch.from_numpy(categorical), torch.from_numpy(numeric))
    scores = scores.numpy()
    rng = np.random.default_rng(0)
    n, tasks = len(labels), dataset.schema.tasks
    rows = []
    for stratified in (False, True):
        values = {task: [] for task in tasks}
        for _ in range(args.cuts):
            if stratified:
                half = np.concatenate(
                    [
                        rng.permutation(np.flatnonzero(labels[:, 0] == c))[
                            : (labels[:, 0] == c).sum() // 2
                        ]
                        for c in (0, 1)
                    ]
                )
            else:
                half = rng.permutation(n)[: n // 2]
            for t, task in enumerate(tasks):
                values[task].append(auc(labels[half, t], scores[half, t]))
        rows.append((stratified, values))
    print(
        f"{args.entry} at lr {point[0]:g}, embedding L2 {point[1]:g}, seed 0 (best epoch "
        f"{result.best_epoch}); whole test file: "
        + ", ".join(
            f"{task} AUC {auc(labels[:, t], scores[:, t]):.4f}" for t, task in enumerate(tasks)
        )
    )
    print(f"\n{args.cuts} random 1:1 cuts of census-income.test, AUC of one half:\n")
    print("| cut | task | mean | std | min | max | max - min |\n|---|---|---|---|---|---|---|")
    for stratified, values in rows:
        for task in tasks:
            v = np.array(values[task])
            label = "stratified by income" if stratified else "plain"
            print(
                f"| {label} | {task} | {v.mean():.4f} | {v.std():.4f} | {v.min():.4f} |"
                f" {v.max():.4f} | {v.max() - v.min():.4f} |"
            )
    unseen = (categorical == 0).any(axis=1)
    print(
        f"\nheld-out rows with a categorical value unseen in training: {unseen.sum():,} of "
        f"{n:,} ({unseen.mean():.2%}); unseen (row, feature) cells: "
        f"{(categorical == 0).sum():,} of {categorical.size:,}"
    )
    per_feature = (categorical == 0).sum(axis=0)
    top = np.argsort(per_feature)[::-1][:5]
    print(
        "most unseen: "
        + ", ".join(f"{dataset.schema.categorical[i]} {per_feature[i]:,}" for i in top)
    )


if __name__ == "__main__":
    main()
