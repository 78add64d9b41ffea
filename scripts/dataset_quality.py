"""Test-split quality of bpr, ew and pmtrec on one dataset, averaged over seeds: the results
tables of docs/results.md (Office, Amazon-HIN, Epinions, ...).

    PMTREC_DATA_DIR=/path/to/data .venv/bin/python scripts/dataset_quality.py \\
        --dataset amazon-hin --seeds 0,1,2 [--core 5] [--epochs N] [--workers 2]

Each (method, seed) trains exactly as ``python -m trainer.fit --dataset D --method M --seed S``
does (defaults from trainer/defaults.py, early stopping on validation Recall@20), in worker
processes of one thread each, then is scored on the test split with full ranking. Writes the
table and the per-run numbers to docs/bench/<dataset>[-core<K>]_quality.{md,json} and replaces
the block between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` in docs/results.md.
``--epochs`` caps training (for smoke runs; the table then says so). Every finished run is
appended to runs/<dataset>[-core<K>]_quality.jsonl at once, and a rerun with the same
configuration takes it from there instead of training again, so an interrupted table resumes.
Workers log each epoch (``--quiet`` to hide).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import re
import statistics
from dataclasses import replace
from pathlib import Path

COLUMNS = ["recall@20", "ndcg@20", "recall@40", "ndcg@40", "recall@10", "ndcg@10", "hit@20"]
# The paper's Table 2 (test split), printed beside ours where the dataset is the paper's.
PAPER = {
    "office": {
        "bpr": {"recall@20": 0.0729, "ndcg@20": 0.0402},
        "ew": {"recall@20": 0.0655, "ndcg@20": 0.0334, "recall@40": 0.1074, "ndcg@40": 0.0443},
        "pmtrec": {"recall@20": 0.0905, "ndcg@20": 0.0473, "recall@40": 0.1474, "ndcg@40": 0.0619},
    },
}
RESULTS = Path("docs/results.md")


def job_config(job: tuple):  # -> TrainConfig (imported lazily: workers are spawned)
    """The TrainConfig a job trains with."""
    from trainer.defaults import default_config

    dataset_name, core, method, seed, epochs, _verbose = job
    config = replace(default_config(dataset_name, method, core), seed=seed)
    return config if epochs is None else replace(config, epochs=epochs)


def record_key(core: int, config) -> str:
    """A run's identity for resuming: k-core and every hyper-parameter (defaults filled)."""
    from trainer.training import TrainConfig

    return json.dumps({"core": core, **TrainConfig.recorded(config)}, sort_keys=True)


def run(job: tuple[str, int, str, int, int | None, bool]) -> dict:
    import torch

    from shared.settings import get_settings
    from trainer.data import LoadOptions, load_dataset
    from trainer.evaluation import RankingEvaluator
    from trainer.training import Trainer

    torch.set_num_threads(1)
    dataset_name, core, method, seed, _epochs, verbose = job
    if verbose:
        logging.basicConfig(
            level=logging.INFO,
            format=f"%(asctime)s {method}/seed {seed}: %(message)s",
            force=True,
        )
    dataset = load_dataset(
        dataset_name, get_settings().data_dir, allow_download=False, options=LoadOptions(core=core)
    )
    config = job_config(job)
    result = Trainer(dataset, config, progress=False).fit()
    users, items = result.encoder.final_vectors()
    test = RankingEvaluator(
        dataset.positives("test"), *dataset.positive_csr(), dataset.num_items
    ).evaluate(users, items)
    return {
        "dataset": dataset_name,
        "core": core,
        "method": method,
        "seed": seed,
        "tasks": ["bpr", *(config.auxiliary_tasks if method != "bpr" else ())],
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds": round(result.seconds, 1),
        "val": result.val_metrics,
        "test": test,
        "config": config.hyperparameters(),
    }


def summary(runs: list[dict], methods: list[str], title: str, dataset: str = "") -> str:
    def mean_std(method: str, column: str) -> str:
        values = [r["test"][column] for r in runs if r["method"] == method]
        return f"{statistics.mean(values):.4f} ± {statistics.pstdev(values):.4f}"

    def mean(method: str, column: str) -> float:
        return statistics.mean(r["test"][column] for r in runs if r["method"] == method)

    lines = [
        title,
        "",
        "| method | tasks | " + " | ".join(COLUMNS) + " | best epochs | epochs run |",
        "|---|---|" + "---|" * (len(COLUMNS) + 2),
    ]
    for method in methods:
        mine = [r for r in runs if r["method"] == method]
        lines.append(
            f"| {method} | {', '.join(mine[0]['tasks'])} | "
            + " | ".join(mean_std(method, c) for c in COLUMNS)
            + f" | {', '.join(str(r['best_epoch']) for r in mine)}"
            + f" | {', '.join(str(r['epochs_run']) for r in mine)} |"
        )
    for method, paper in PAPER.get(dataset, {}).items():
        cells = [f"{paper[c]:.4f}" if c in paper else "-" for c in COLUMNS]
        lines.append(f"| paper: {method} | | " + " | ".join(cells) + " | | |")
    for baseline, label in (("bpr", "BPR alone"), ("ew", "EW")):
        if {"pmtrec", baseline} <= set(methods):
            verdicts = []
            for column in ("recall@20", "ndcg@20", "recall@40", "ndcg@40"):
                gain = mean("pmtrec", column) / mean(baseline, column) - 1
                verdicts.append(f"{column} {gain:+.1%}")
            lines += ["", f"PMTRec vs {label} (mean over seeds): " + ", ".join(verdicts)]
    return "\n".join(lines) + "\n"


def update_results(name: str, table: str, path: Path = RESULTS) -> None:
    """Replace the dataset's block in docs/results.md (appended when absent)."""
    start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
    block = f"{start}\n{table}{end}"
    text = path.read_text() if path.exists() else "# Results\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--core", type=int, default=0, help="k-core (0: none)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default="pmtrec,ew,bpr")
    parser.add_argument("--epochs", type=int, help="cap on epochs (smoke runs only)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-results", action="store_true", help="leave docs/results.md alone")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch log lines")
    args = parser.parse_args()
    methods = args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    name = args.dataset + (f"-core{args.core}" if args.core else "")
    jobs = [
        (args.dataset, args.core, m, s, args.epochs, not args.quiet) for m in methods for s in seeds
    ]

    store = Path(f"runs/{name}_quality.jsonl")
    store.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if store.exists():
        for line in store.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                done[record_key(record["core"], record["config"])] = record
    keys = [record_key(job[1], job_config(job)) for job in jobs]
    todo = [job for job, key in zip(jobs, keys) if key not in done]
    print(f"{len(jobs)} runs, {len(jobs) - len(todo)} already in {store}, {len(todo)} to train")
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for record in pool.imap_unordered(run, todo):
            with store.open("a") as out:
                out.write(json.dumps(record, sort_keys=True) + "\n")
            done[record_key(record["core"], record["config"])] = record
            print(
                f"done {record['method']} seed {record['seed']}: test recall@20 "
                f"{record['test']['recall@20']:.4f}, best epoch {record['best_epoch']}/"
                f"{record['epochs_run']}, {record['seconds'] / 60:.1f} min",
                flush=True,
            )
    runs = [done[key] for key in keys]
    minutes = sum(r["seconds"] for r in runs) / 60
    capped = sum(r["epochs_run"] >= (args.epochs or 0) for r in runs)
    cap = (
        f" SMOKE RUN, not a result: training capped at {args.epochs} epochs ({capped} of "
        f"{len(runs)} runs reached the cap, the others stopped early)."
        if args.epochs
        else " Early stopping on validation Recall@20 (patience from trainer/defaults.py)."
    )
    title = (
        f"**{name}**, test split, mean ± std over seeds {args.seeds} (MF, d=32, defaults "
        f"from trainer/defaults.py, full ranking over all {name} items).{cap} "
        f"{len(runs)} runs, {minutes:.1f} min of training in all (one thread each)."
    )
    table = summary(runs, methods, title, args.dataset)
    print(table)
    out = Path(f"docs/bench/{name}_quality")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table)
    out.with_suffix(".json").write_text(json.dumps(runs, indent=2))
    if not args.no_results:
        update_results(name, table)


if __name__ == "__main__":
    main()
