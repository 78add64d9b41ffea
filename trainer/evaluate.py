"""Recompute a bundle's offline metrics from its vectors and its dataset's splits.

python -m trainer.evaluate bundles/office-pmtrec
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from shared.bundle import Bundle, BundleError, load_bundle
from shared.components import EVAL_EXCLUDE
from shared.metrics import DEFAULT_KS
from shared.settings import get_settings
from trainer.data import DatasetError, LoadOptions, RecDataset, load_dataset
from trainer.evaluation import RankingEvaluator


def evaluate_bundle(
    bundle: Bundle,
    dataset: RecDataset,
    ks: tuple[int, ...] = DEFAULT_KS,
    exclude: str | None = None,
) -> dict[str, dict[str, float]]:
    """Val and test metrics of a bundle on its dataset (rows aligned through external ids),
    with ``exclude``'s training items left out of the lists (default: the bundle's own
    ``eval_exclude``, "positives" for bundles written before the setting)."""
    user_rows = np.array([bundle.user_rows.get(u, -1) for u in dataset.user_ids])
    item_rows = np.array([bundle.item_rows.get(i, -1) for i in dataset.item_ids])
    if (user_rows < 0).any() or (item_rows < 0).any():
        raise BundleError(
            f"bundle {bundle.path} does not cover dataset '{dataset.name}' "
            f"({int((user_rows < 0).sum())} users, {int((item_rows < 0).sum())} items missing)"
        )
    users = torch.from_numpy(bundle.user_embeddings[user_rows])
    items = torch.from_numpy(bundle.item_embeddings[item_rows])
    if exclude is None:
        exclude = bundle.manifest.get("hyperparameters", {}).get("eval_exclude", "positives")
    excluded = dataset.excluded_csr(exclude)
    return {
        split: RankingEvaluator(
            dataset.positives(split), *excluded, dataset.num_items, ks=ks
        ).evaluate(users, items)
        for split in ("val", "test")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--data-dir", type=Path, help="default: $PMTREC_DATA_DIR")
    parser.add_argument("--ks", default="5,10,20,40")
    parser.add_argument(
        "--eval-exclude",
        choices=EVAL_EXCLUDE,
        help="training items left out of the lists (default: the bundle's own setting)",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        ks = tuple(int(k) for k in args.ks.split(","))
        if any(k <= 0 for k in ks):
            raise ValueError(f"every k must be positive, got {args.ks}")
        bundle = load_bundle(args.bundle)
        dataset = load_dataset(
            bundle.manifest["dataset"],
            args.data_dir or settings.data_dir,
            settings.allow_download,
            LoadOptions.from_manifest(bundle.manifest.get("load_options", {})),
        )
        metrics = evaluate_bundle(bundle, dataset, ks, args.eval_exclude)
    except (BundleError, DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stored = bundle.manifest.get("metrics", {})
    print(f"bundle {bundle.version} ({bundle.manifest['method']} on {bundle.manifest['dataset']})")
    print(f"{'metric':<12}{'val':>10}{'test':>10}{'stored test':>13}")
    for key in metrics["test"]:
        print(
            f"{key:<12}{metrics['val'][key]:>10.4f}{metrics['test'][key]:>10.4f}"
            f"{stored.get('test', {}).get(key, float('nan')):>13.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
