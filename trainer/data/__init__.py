"""Dataset registry: each dataset is a loader function registered by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trainer.data.amazon_hin import load_amazon_hin
from trainer.data.epinions import load_epinions
from trainer.data.interactions import Interactions, RecDataset
from trainer.data.multi_behavior import load_beibei, load_tmall
from trainer.data.office import load_office
from trainer.data.options import FLAGS, LoadOptions
from trainer.data.sources import DatasetError
from trainer.data.user_csv import load_csv
from trainer.data.videogame import load_videogame

Loader = Callable[..., RecDataset]

DATASETS: dict[str, Loader] = {
    "office": load_office,
    "epinions": load_epinions,
    "amazon-hin": load_amazon_hin,
    "videogame": load_videogame,
    "csv": load_csv,
    "tmall": load_tmall,
    "beibei": load_beibei,
}
# The LoadOptions each dataset takes (its loader's third argument); a dataset absent here
# takes none, and is called as loader(data_dir, allow_download).
DATASET_OPTIONS: dict[str, frozenset[str]] = {
    "epinions": frozenset({"core"}),
    "amazon-hin": frozenset({"core"}),
    "videogame": frozenset({"core", "skip_bad_rows"}),
    "csv": frozenset(
        {"core", "interactions", "item_pairs", "user_pairs", "skip_bad_rows", "target_behavior"}
    ),
}


def load_dataset(
    name: str, data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    """Load a registered dataset; DatasetError lists the valid names for an unknown one, and
    names any option the dataset does not take."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise DatasetError(
            f"unknown dataset '{name}'; valid names: {', '.join(sorted(DATASETS))}"
        ) from None
    accepted = DATASET_OPTIONS.get(name, frozenset())
    options = options or LoadOptions()
    refused = [FLAGS[option] for option in options.given() if option not in accepted]
    if refused:
        raise DatasetError(f"dataset '{name}' does not take {', '.join(refused)}")
    if name not in DATASET_OPTIONS:
        return loader(Path(data_dir), allow_download)
    return loader(Path(data_dir), allow_download, options)


__all__ = [
    "DATASETS",
    "DatasetError",
    "Interactions",
    "LoadOptions",
    "RecDataset",
    "load_dataset",
]
