"""Dataset statistics.

    python -m trainer.data stats epinions [--core 5]
    python -m trainer.data stats amazon-hin
    python -m trainer.data stats csv --interactions ratings.csv --item-pairs pairs.csv

Prints the counts measured on the source files (rows, distinct ids, duplicates merged, ...),
the dataset as trained on (users, items, interactions, density, split sizes) and each
auxiliary relation (links, rows involved, rows dropped and why). Exit status 2 for an unknown
dataset (the valid names are listed) or a file that cannot be loaded.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from shared.components import load_option_params
from shared.settings import get_settings
from trainer.data import DATASETS, DatasetError, LoadOptions, load_dataset
from trainer.names import add_param_arguments

SECTIONS = (
    ("source files", "source:"),
    ("auxiliary relations", "link:"),
    ("auxiliary behaviors", "behavior:"),
    ("dataset", ""),
)


def format_stats(name: str, stats: dict[str, float]) -> str:
    """The statistics grouped by section, one ``key  value`` line each."""
    lines = [f"dataset {name}"]
    remaining = dict(stats)
    for title, prefix in SECTIONS:
        keys = [key for key in remaining if key.startswith(prefix)]
        if not keys:
            continue
        lines.append(f"\n{title}:")
        for key in keys:
            value = remaining.pop(key)
            shown = f"{value:.6f}" if isinstance(value, float) else f"{value:,}"
            lines.append(f"  {key.removeprefix(prefix):<44} {shown:>15}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    stats = commands.add_parser("stats", help="print a dataset's statistics")
    stats.add_argument("dataset", help=f"one of: {', '.join(sorted(DATASETS))}")
    add_param_arguments(stats, load_option_params().values())
    stats.add_argument("--data-dir", type=Path, help="default: $PMTREC_DATA_DIR")
    stats.add_argument("--no-download", action="store_true", help="never fetch missing files")
    stats.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    settings = get_settings()
    try:
        given = {name: getattr(args, name) for name in load_option_params()}
        options = LoadOptions(**{k: v for k, v in given.items() if v is not None})
        dataset = load_dataset(
            args.dataset,
            args.data_dir or settings.data_dir,
            settings.allow_download and not args.no_download,
            options,
        )
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stats = dataset.stats()
    print(json.dumps(stats, indent=2) if args.json else format_stats(dataset.name, stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
