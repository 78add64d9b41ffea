"""Validation search for ALS and EASE (never on test), logged like trainer.search's.

Runs every combination of the grid one after another (a fit takes seconds), appends one JSON
line per run to ``--log`` (runs already there are not trained again) and prints the runs
ranked by validation Recall@20.

    python -m trainer.baselines.search --dataset office --method als \\
        --grid dim=32,128 reg=30,100,300 confidence=10,30,100 --log docs/search/office-als.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from shared.settings import get_settings
from trainer.baselines import BASELINE_METHODS
from trainer.baselines.config import BaselineConfig
from trainer.data import DatasetError, LoadOptions, load_dataset
from trainer.defaults import default_baseline_config
from trainer.training import ConfigError

_CASTS: dict[str, type] = {
    "dim": int,
    "reg": float,
    "confidence": float,
    "iterations": int,
    "inputs": str,
    "val_users": int,
    "eval_exclude": str,
}


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in _CASTS or not values:
            raise ConfigError(
                f"bad grid entry '{item}'; use NAME=V1,V2 with NAME one of {', '.join(_CASTS)}"
            )
        grid[name] = [_CASTS[name](v) for v in values.split(",")]
    return grid


def _key(config: BaselineConfig | dict[str, Any], core: int) -> str:
    values = config.hyperparameters() if isinstance(config, BaselineConfig) else config
    return json.dumps({**values, "core": core}, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.baselines.search", description=__doc__)
    parser.add_argument("--dataset", default="office")
    parser.add_argument("--method", required=True, choices=BASELINE_METHODS)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--grid", nargs="*", default=[])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        grid = parse_grid(args.grid)
        base = default_baseline_config(args.dataset, args.method, args.core)
        configs = [
            replace(base, seed=int(seed), **dict(zip(grid, values)))
            for values in itertools.product(*grid.values())
            for seed in args.seeds.split(",")
        ]
        dataset = load_dataset(
            args.dataset,
            args.data_dir or settings.data_dir,
            settings.allow_download,
            LoadOptions(core=args.core),
        )
    except (ConfigError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from trainer.baselines.cache import configured_fit_cache
    from trainer.baselines.fit import fit_baseline

    cache = configured_fit_cache(settings)

    records = []
    if args.log.exists():
        records = [json.loads(line) for line in args.log.read_text().splitlines() if line]
    done = {_key(r["config"], r.get("core", 0)) for r in records}
    args.log.parent.mkdir(parents=True, exist_ok=True)
    for config in configs:
        if _key(config, args.core) in done:
            continue
        try:
            result = fit_baseline(dataset, config, cache)
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        record = {
            "dataset": args.dataset,
            "core": args.core,
            "config": config.hyperparameters(),
            "best_epoch": result.best_iteration,
            "epochs_run": len(result.history),
            "seconds": round(result.seconds, 2),
            "val": result.val_metrics,
        }
        with open(args.log, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        records.append(record)
    mine = [r for r in records if r["config"]["method"] == args.method]
    for r in sorted(mine, key=lambda r: -r["val"]["recall@20"]):
        shown = {k: r["config"][k] for k in ("dim", "reg", "confidence", "iterations", "inputs")}
        print(
            f"val R@20 {r['val']['recall@20']:.4f} N@20 {r['val']['ndcg@20']:.4f} "
            f"best {r['best_epoch']}/{r['epochs_run']} {shown}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
