"""Hyper-parameter search on the validation split (never on test).

Runs every combination of the given grid, in parallel worker processes of one thread each,
appends one JSON line per finished run to ``--log`` (so an interrupted search resumes where it
stopped) and prints the runs ranked by validation Recall@20.

    python -m trainer.search --dataset office --method pmtrec [--core 5] [--tasks a,b] \\
        --grid lr=0.01,0.005 weight_decay=1e-4,1e-6 alpha=1.0,1.1 tau=1e-4,1e-5 \\
        --seeds 0 --workers 2 --log runs/search-office-pmtrec.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from shared.components import load_option_params, training_params
from shared.registry import Param
from shared.settings import get_settings
from trainer.data import DatasetError, LoadOptions, load_dataset
from trainer.defaults import default_config, select_auxiliary_tasks
from trainer.names import add_param_arguments
from trainer.training import ConfigError, TrainConfig

log = logging.getLogger("trainer.search")


def grid_fields() -> dict[str, Param]:
    """The fields a grid may vary: every declared hyper-parameter (plug-ins' included) but
    the seed (``--seeds``) and the device."""
    return {name: p for name, p in training_params().items() if name not in ("seed", "device")}


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    fields = grid_fields()
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in fields or not values:
            raise ConfigError(
                f"bad grid entry '{item}'; use NAME=V1,V2 with NAME one of "
                f"{', '.join(sorted(fields))}"
            )
        grid[name] = [fields[name].parse(v) for v in values.split(",")]
    return grid


def _key(config: TrainConfig | dict[str, Any], core: int = 0) -> str:
    """A run's identity: its hyper-parameters (defaults for fields added since) and k-core."""
    return json.dumps({**TrainConfig.recorded(config), "core": core}, sort_keys=True)


def _run(job: tuple[str, Path, TrainConfig, LoadOptions]) -> dict[str, Any]:
    import torch

    from trainer.training import Trainer

    torch.set_num_threads(1)
    dataset_name, data_dir, config, options = job
    dataset = load_dataset(dataset_name, data_dir, allow_download=False, options=options)
    result = Trainer(dataset, config, progress=False).fit()
    return {
        "dataset": dataset_name,
        "core": options.core,
        "config": config.hyperparameters(),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds": round(result.seconds, 1),
        "val": result.val_metrics,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", default="office")
    parser.add_argument("--method", default="pmtrec")
    parser.add_argument("--encoder", default="mf")
    parser.add_argument(
        "--tasks", help="comma-separated auxiliary tasks (default: the dataset's own)"
    )
    parser.add_argument("--grid", nargs="*", default=[], help="NAME=V1,V2,... entries")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log", type=Path, required=True, help="JSON-lines results file")
    add_param_arguments(
        parser.add_argument_group("dataset options (see docs/datasets.md)"),
        load_option_params().values(),
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    settings = get_settings()
    try:
        grid = parse_grid(args.grid)
        given = {name: getattr(args, name) for name in load_option_params()}
        options = LoadOptions(**{k: v for k, v in given.items() if v is not None})
        core = options.core
        base = replace(default_config(args.dataset, args.method, core), encoder=args.encoder)
        dataset = load_dataset(args.dataset, settings.data_dir, settings.allow_download, options)
        if args.tasks is not None:
            base = replace(base, auxiliary_tasks=select_auxiliary_tasks(dataset, args.tasks))
        configs = [
            replace(base, seed=int(seed), **dict(zip(grid, values)))
            for values in itertools.product(*grid.values())
            for seed in args.seeds.split(",")
        ]
    except (ConfigError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    done: dict[str, dict[str, Any]] = {}
    if args.log.exists():
        for line in args.log.read_text().splitlines():
            record = json.loads(line)
            done[_key(record["config"], record.get("core", 0))] = record
    todo = [c for c in configs if _key(c, core) not in done]
    log.info(
        "%d runs in the grid, %d already done, %d to run",
        len(configs),
        len(configs) - len(todo),
        len(todo),
    )
    args.log.parent.mkdir(parents=True, exist_ok=True)
    jobs = [(args.dataset, settings.data_dir, c, options) for c in todo]
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool, args.log.open("a") as out:
        for record in pool.imap_unordered(_run, jobs):
            out.write(json.dumps(record) + "\n")
            out.flush()
            done[_key(record["config"], core)] = record
            log.info(
                "val recall@20 %.4f ndcg@20 %.4f best epoch %d (%.0fs) %s",
                record["val"]["recall@20"],
                record["val"]["ndcg@20"],
                record["best_epoch"],
                record["seconds"],
                {k: TrainConfig.recorded(record["config"])[k] for k in grid},
            )

    wanted = {_key(c, core) for c in configs}
    ranked = sorted(
        (r for k, r in done.items() if k in wanted), key=lambda r: -r["val"]["recall@20"]
    )
    print(f"{'val R@20':>9} {'val N@20':>9} {'epoch':>5}  hyper-parameters")
    for record in ranked[:20]:
        config = TrainConfig.recorded(record["config"])  # older records lack newer fields
        shown = {k: config[k] for k in [*grid, "seed"]}
        print(
            f"{record['val']['recall@20']:9.4f} {record['val']['ndcg@20']:9.4f} "
            f"{record['best_epoch']:5d}  {shown}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
