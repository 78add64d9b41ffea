"""Test-split quality on Office for bpr, ew and pmtrec with their default hyper-parameters,
averaged over seeds, beside the paper's Table 2.

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/office_quality.py [--seeds 0,1,2]

Each (method, seed) trains exactly as ``python -m trainer.fit --dataset office --method M
--seed S`` does (same defaults, early stopping on validation) in worker processes of one
thread each. Prints a Markdown table and writes it, with the per-seed numbers as JSON, to
docs/bench/office_quality.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
from dataclasses import replace
from pathlib import Path

PAPER = {  # Table 2 of the paper, Office, test split
    "bpr": {"recall@20": 0.0729, "ndcg@20": 0.0402},
    "ew": {"recall@20": 0.0655, "ndcg@20": 0.0334, "recall@40": 0.1074, "ndcg@40": 0.0443},
    "pmtrec": {"recall@20": 0.0905, "ndcg@20": 0.0473, "recall@40": 0.1474, "ndcg@40": 0.0619},
}
COLUMNS = ["recall@10", "ndcg@10", "recall@20", "ndcg@20", "recall@40", "ndcg@40", "hit@20"]


def run(job: tuple[str, int]) -> dict:
    import torch

    from shared.settings import get_settings
    from trainer.data import load_dataset
    from trainer.defaults import default_config
    from trainer.evaluation import RankingEvaluator
    from trainer.training import Trainer

    torch.set_num_threads(1)
    method, seed = job
    dataset = load_dataset("office", get_settings().data_dir)
    config = replace(default_config("office", method), seed=seed)
    result = Trainer(dataset, config, progress=False).fit()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"), *dataset.positive_csr(), dataset.num_items
    ).evaluate(users, items)
    return {
        "method": method,
        "seed": seed,
        "best_epoch": result.best_epoch,
        "seconds": round(result.seconds, 1),
        "val": result.val_metrics,
        "test": test,
        "config": config.hyperparameters(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default="pmtrec,ew,bpr")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/bench/office_quality"))
    args = parser.parse_args()
    methods = args.methods.split(",")
    jobs = [(m, int(s)) for m in methods for s in args.seeds.split(",")]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        runs = pool.map(run, jobs)

    def fmt(method: str, column: str) -> str:
        values = [r["test"][column] for r in runs if r["method"] == method]
        return f"{statistics.mean(values):.4f} ± {statistics.pstdev(values):.4f}"

    lines = [
        f"Office, test split, mean ± std over seeds {args.seeds} (MF, d=32, default "
        "hyper-parameters from trainer/defaults.py).",
        "",
        "| method | " + " | ".join(COLUMNS) + " | paper R@20 | paper N@20 | best epochs |",
        "|---|" + "---|" * (len(COLUMNS) + 3),
    ]
    for method in methods:
        epochs = ", ".join(str(r["best_epoch"]) for r in runs if r["method"] == method)
        paper = PAPER.get(method, {})
        lines.append(
            f"| {method} | " + " | ".join(fmt(method, c) for c in COLUMNS)
            + f" | {paper.get('recall@20', '-')} | {paper.get('ndcg@20', '-')} | {epochs} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(table)
    args.out.with_suffix(".json").write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
