"""Dataset registry: each dataset is a loader function registered by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from trainer.data.interactions import Interactions, RecDataset
from trainer.data.office import load_office
from trainer.data.sources import DatasetError

Loader = Callable[[Path, bool], RecDataset]

DATASETS: dict[str, Loader] = {
    "office": load_office,
}


def load_dataset(name: str, data_dir: Path, allow_download: bool = True) -> RecDataset:
    """Load a registered dataset; DatasetError lists the valid names for an unknown one."""
    try:
        loader = DATASETS[name]
    except KeyError:
        raise DatasetError(
            f"unknown dataset '{name}'; valid names: {', '.join(sorted(DATASETS))}"
        ) from None
    return loader(Path(data_dir), allow_download)


__all__ = ["DATASETS", "DatasetError", "Interactions", "RecDataset", "load_dataset"]
