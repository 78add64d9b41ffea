"""The ranking experiments on Census-Income: ``python -m trainer.ranking.experiments``.

``table``: every architecture (and MMoE trained through the PMTRec combiner) gets the same
tuning budget, the (learning rate, embedding L2) points of ``TUNING_GRID`` at seed 0, picked
by validation mean AUC; the picked configuration then runs with seeds 0, 1, 2 and the test
split gives mean ± std per task, with seconds per training epoch. ``ablation``: DRGrad's
variants (drgrad.py ABLATIONS) at DRGrad's picked point, 3 seeds, for each DRGrad row
(``drgrad``: the router decides once per batch, the default; ``drgrad_sample``: per sample).

``--own-option`` adds a second tuning stage with the same budget for every row: two more
seed-0 runs at the row's best grid point, on one option of its own architecture
(``OWN_OPTIONS``: the expert count of MMoE, the shared experts of PLE and STEM-Net, the
bottom width of shared-bottom, DRGrad's routed-gradient scale); the best of those two and
the grid point's own run, on validation, is the row's configuration.

Every run appends one JSON line (its key, metrics, best epoch, seconds) to ``--records`` as
soon as it ends; a rerun skips the keys already there, so an interrupted command resumes.
``--workers 2`` trains two runs at a time (each with one torch thread).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import sys
from pathlib import Path
from typing import Any

import numpy as np

from trainer.ranking.data.census import NUMERIC_MODES
from trainer.ranking.models import RankerConfig
from trainer.ranking.models.drgrad import ABLATIONS
from trainer.ranking.training import RankTrainConfig

log = logging.getLogger(__name__)

LEARNING_RATES = (3e-3, 1e-2)
EMBEDDING_L2 = (1e-6, 1e-5, 1e-4)
# The tuning budget of every table row: each (learning rate, embedding L2) at seed 0.
TUNING_GRID = tuple((lr, l2) for l2 in EMBEDDING_L2 for lr in LEARNING_RATES)
SEEDS = (0, 1, 2)
EPOCHS = 12
BATCH_SIZE = 2048
PATIENCE = 2
CENSUS_ABLATIONS = ("split", "split_router", "full")
PMTREC_OPTIONS = {"alpha": 1.04, "tau": 1e-4}
# The second tuning stage (--own-option): each row's own option and its two other values
# (the default is the grid's run).
OWN_OPTIONS: dict[str, tuple[str, tuple]] = {
    "shared_bottom": ("bottom_dims", ((32,), (128,))),
    "mmoe": ("num_experts", (4, 16)),
    "ple": ("shared_experts", (2, 8)),
    "stem": ("shared_experts", (2, 8)),
    "split_mmoe": ("num_experts", (4, 16)),
    "drgrad": ("route_scale", (0.1, 0.3)),
    "drgrad_sample": ("route_scale", (0.1, 0.3)),
    "mmoe+pmtrec": ("num_experts", (4, 16)),
}
# Table rows: label -> (model, combiner, RankerConfig overrides).
ENTRIES: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "shared_bottom": ("shared_bottom", None, {}),
    "mmoe": ("mmoe", None, {}),
    "ple": ("ple", None, {}),
    "stem": ("stem", None, {}),
    "split_mmoe": ("split_mmoe", None, {}),
    "drgrad": ("drgrad", None, {}),
    "drgrad_sample": ("drgrad", None, {"route_granularity": "sample"}),
    "mmoe+pmtrec": ("mmoe", "pmtrec", {}),
}


def config_of(
    entry: str,
    lr: float,
    seed: int,
    overrides: dict[str, Any] | None = None,
    epochs: int | None = None,
    patience: int | None = None,
):
    model, combiner, options = ENTRIES[entry]
    return RankTrainConfig(
        model=model,
        lr=lr,
        seed=seed,
        epochs=EPOCHS if epochs is None else epochs,
        batch_size=BATCH_SIZE,
        patience=PATIENCE if patience is None else patience,
        combiner=combiner,
        combiner_options=PMTREC_OPTIONS if combiner == "pmtrec" else {},
        ranker=RankerConfig(**{**options, **(overrides or {})}),
    )


def run_key(config: RankTrainConfig, numeric: str = "embedded") -> str:
    """The record key of a run; the census numeric mode enters it only when it is not the
    default, so the records made before the mode existed keep their keys."""
    protocol = {} if numeric == "embedded" else {"census_numeric": numeric}
    return json.dumps({"dataset": "census", **protocol, **config.to_dict()}, sort_keys=True)


def read_records(path: Path) -> dict[str, dict]:
    records: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                records[record["key"]] = record
    return records


# The dataset of this process: loaded on its first run (tests may set it beforehand), and
# loaded again when a run asks for another census numeric mode than the one held.
_DATASET = None
_DATASET_MODE = "embedded"


def _run(job: tuple[RankTrainConfig, str]) -> dict:
    """One training run in a worker process (the dataset is loaded once per process and
    numeric mode)."""
    import torch

    from shared.settings import get_settings
    from trainer.ranking.data.census import load_census
    from trainer.ranking.training import RankTrainer

    global _DATASET, _DATASET_MODE
    config, numeric = job
    torch.set_num_threads(1)
    if _DATASET is None or numeric != _DATASET_MODE:
        _DATASET = load_census(get_settings().data_dir, numeric=numeric)
        _DATASET_MODE = numeric
    result = RankTrainer(_DATASET, config, progress=False).fit()
    return {
        "key": run_key(config, numeric),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds_per_epoch": round(result.seconds_per_epoch, 2),
        "val": result.val_metrics,
        "test": result.test_metrics,
    }


def _map(jobs: list[tuple[RankTrainConfig, str]], workers: int):
    """Records of the runs as they finish: in this process with one worker, else in a pool
    of spawned processes (each loads the dataset once)."""
    if workers <= 1:
        yield from map(_run, jobs)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(_run, jobs)


def execute(
    configs: list[RankTrainConfig], records_path: Path, workers: int, numeric: str = "embedded"
) -> dict[str, dict]:
    records = read_records(records_path)
    todo = [(c, numeric) for c in configs if run_key(c, numeric) not in records]
    log.info(
        "%d runs wanted, %d recorded, %d to train",
        len(configs),
        len(configs) - len(todo),
        len(todo),
    )
    records_path.parent.mkdir(parents=True, exist_ok=True)
    if not todo:
        return records
    with open(records_path, "a") as out:
        for record in _map(todo, workers):
            out.write(json.dumps(record) + "\n")
            out.flush()
            records[record["key"]] = record
            log.info("done: %s", record["key"][:120])
    return records


def tuning_config(
    entry: str,
    point: tuple[float, float],
    seed: int = 0,
    overrides=None,
    epochs: int | None = None,
    patience: int | None = None,
):
    """The run of ``entry`` at one tuning point (learning rate, embedding L2)."""
    lr, l2 = point
    return config_of(entry, lr, seed, {"embedding_l2": l2, **(overrides or {})}, epochs, patience)


def tuned_point(
    entry: str,
    records: dict[str, dict],
    numeric: str = "embedded",
    epochs: int | None = None,
    patience: int | None = None,
) -> tuple[float, float]:
    """The tuning point of ``entry`` with the best validation mean AUC (seed 0)."""
    scores = {
        point: records[
            run_key(tuning_config(entry, point, epochs=epochs, patience=patience), numeric)
        ]["val"]["mean_auc"]
        for point in TUNING_GRID
    }
    return max(scores, key=lambda point: scores[point])


def own_option_configs(
    entry: str, point: tuple[float, float], epochs: int | None = None, patience: int | None = None
) -> list[RankTrainConfig]:
    """The second stage's runs of ``entry``: its own option's other values at ``point``."""
    name, values = OWN_OPTIONS[entry]
    return [tuning_config(entry, point, 0, {name: v}, epochs, patience) for v in values]


def picked_options(
    entry: str,
    point: tuple[float, float],
    records: dict[str, dict],
    numeric: str = "embedded",
    epochs: int | None = None,
    patience: int | None = None,
) -> dict[str, Any]:
    """The overrides (empty: the default) of the best validation run among the grid's run at
    ``point`` and the second stage's two."""
    name, values = OWN_OPTIONS[entry]
    candidates = {(): tuning_config(entry, point, epochs=epochs, patience=patience)}
    for value, config in zip(values, own_option_configs(entry, point, epochs, patience)):
        candidates[(name, value)] = config
    scores = {k: records[run_key(c, numeric)]["val"]["mean_auc"] for k, c in candidates.items()}
    best = max(scores, key=lambda k: scores[k])  # ties keep the default (listed first)
    return dict([best]) if best else {}


def _summary(rows: list[dict]) -> str:
    tasks = [key.removesuffix(":auc") for key in rows[0]["test"] if key.endswith(":auc")]
    cells = []
    for task in tasks:
        values = np.array([r["test"][f"{task}:auc"] for r in rows])
        cells.append(f"{values.mean():.4f} ± {values.std():.4f}")
    for task in tasks:
        values = np.array([r["test"][f"{task}:logloss"] for r in rows])
        cells.append(f"{values.mean():.4f}")
    cells.append(f"{np.mean([r['seconds_per_epoch'] for r in rows]):.1f}")
    cells.append("/".join(str(r["best_epoch"]) for r in rows))
    return " | ".join(cells)


def _option(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}"


HEADER = (
    "| model | lr | embedding L2 | AUC task 1 | AUC task 2 | log-loss task 1 | log-loss task 2 "
    "| s/epoch | best epochs |\n|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artefact", choices=("tuning", "table", "ablation", "all"))
    parser.add_argument("--records", type=Path, default=Path("docs/ranking/census-runs.jsonl"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--entries", default=",".join(ENTRIES))
    parser.add_argument(
        "--numeric",
        choices=NUMERIC_MODES,
        default="embedded",
        help="how Census's 7 numeric fields enter the rankers (trainer/ranking/data/census.py)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=EPOCHS,
        help=f"the epoch cap of every run (default {EPOCHS}; it enters the records' keys)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=PATIENCE,
        help=f"early-stopping patience of every run (default {PATIENCE}; it enters the keys)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=len(SEEDS),
        help=f"seeds of the picked configurations, 0 .. N-1 (default {len(SEEDS)})",
    )
    parser.add_argument(
        "--own-option",
        action="store_true",
        help="a second tuning stage: two more validation runs per row on its own option",
    )
    args = parser.parse_args(argv)
    numeric, epochs, patience = args.numeric, args.epochs, args.patience
    if epochs < 1 or patience < 1 or args.seeds < 1:
        print("error: --epochs, --patience and --seeds must be at least 1", file=sys.stderr)
        return 2
    seeds = range(args.seeds)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    entries = args.entries.split(",")
    unknown = [e for e in entries if e not in ENTRIES]
    if unknown:
        print(
            f"error: unknown entries {unknown}; valid names: {', '.join(ENTRIES)}", file=sys.stderr
        )
        return 2
    tuning = [
        tuning_config(e, point, epochs=epochs, patience=patience)
        for e in entries
        for point in TUNING_GRID
    ]
    records = execute(tuning, args.records, args.workers, numeric)
    picked = {e: tuned_point(e, records, numeric, epochs, patience) for e in entries}
    options: dict[str, dict[str, Any]] = {e: {} for e in entries}
    if args.own_option:
        second = [c for e in entries for c in own_option_configs(e, picked[e], epochs, patience)]
        records = execute(second, args.records, args.workers, numeric)
        options = {
            e: picked_options(e, picked[e], records, numeric, epochs, patience) for e in entries
        }
    if args.artefact == "tuning":
        # Validation only (the protocol rows of docs/results.md): no seed touches test.
        print("| model | numeric | lr | embedding L2 | val AUC task 1 | val AUC task 2 |", end="")
        print(" val mean AUC | best epoch |\n|---|---|---|---|---|---|---|---|")
        for e in entries:
            for lr, l2 in TUNING_GRID:
                record = records[
                    run_key(tuning_config(e, (lr, l2), epochs=epochs, patience=patience), numeric)
                ]
                val = record["val"]
                aucs = [v for k, v in val.items() if k.endswith(":auc")]
                print(
                    f"| {e} | {numeric} | {lr:g} | {l2:g} | {aucs[0]:.4f} | {aucs[1]:.4f} |"
                    f" {val['mean_auc']:.4f} | {record['best_epoch']} |"
                )
        return 0
    finals = [
        tuning_config(e, picked[e], s, options[e], epochs, patience) for e in entries for s in seeds
    ]
    # Census has no user id: "full" is "no_gate" there (same model), trained once.
    with_ablation = args.artefact in ("ablation", "all")
    ablated = [e for e in entries if with_ablation and ENTRIES[e][0] == "drgrad"]

    def ablation_config(entry: str, name: str, seed: int) -> RankTrainConfig:
        overrides = {**options[entry], **ABLATIONS[name]}
        return tuning_config(entry, picked[entry], seed, overrides, epochs, patience)

    ablation = [
        ablation_config(e, name, s) for e in ablated for name in CENSUS_ABLATIONS for s in seeds
    ]
    records = execute(finals + ablation, args.records, args.workers, numeric)
    if args.artefact in ("table", "all"):
        print(HEADER)
        for e in entries:
            rows = [
                records[
                    run_key(tuning_config(e, picked[e], s, options[e], epochs, patience), numeric)
                ]
                for s in seeds
            ]
            lr, l2 = picked[e]
            label = e + "".join(f" ({k}={_option(v)})" for k, v in options[e].items())
            print(f"| {label} | {lr:g} | {l2:g} | {_summary(rows)} |")
    for entry in ablated:
        lr, l2 = picked[entry]
        print("\n" + HEADER.replace("| model |", f"| {entry} variant |"))
        for name in CENSUS_ABLATIONS:
            rows = [records[run_key(ablation_config(entry, name, s), numeric)] for s in seeds]
            label = "no_gate = full (no user id)" if name == "full" else name
            label += "".join(f" ({k}={_option(v)})" for k, v in options[entry].items())
            print(f"| {label} | {lr:g} | {l2:g} | {_summary(rows)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
