"""Datasets: each is a loader function bound to its declaration by name.

Every module of this package is imported here, so a new dataset is its loader's file
(decorated with ``@implements("dataset", name)``) and its declaration in
``shared/components.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from pathlib import Path

from shared.registry import DATASETS as DECLARED
from trainer.data.interactions import Interactions, RecDataset
from trainer.data.options import FLAGS, LoadOptions
from trainer.data.sources import DatasetError
from trainer.registry import Implementations

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

Loader = Callable[..., RecDataset]

# Every declared dataset's loader (shared/components.py declares them, the loader modules
# implement them with @implements("dataset", name)).
DATASETS: Mapping[str, Loader] = Implementations("dataset")
# The LoadOptions each dataset takes (its loader's third argument); a dataset without any
# is called as loader(data_dir, allow_download).
DATASET_OPTIONS: Mapping[str, frozenset[str]] = {
    d.name: frozenset(d.param_names()) for d in DECLARED.components() if d.params
}


def load_dataset(
    name: str, data_dir: Path, allow_download: bool = True, options: LoadOptions | None = None
) -> RecDataset:
    """Load a registered dataset; DatasetError lists the valid names for an unknown one, and
    names any option the dataset does not take."""
    if name not in DECLARED:
        raise DatasetError(f"unknown dataset '{name}'; valid names: {', '.join(sorted(DECLARED))}")
    loader = DATASETS[name]
    accepted = DECLARED.get(name).param_names()
    options = options or LoadOptions()
    refused = [FLAGS[option] for option in options.given() if option not in accepted]
    if refused:
        raise DatasetError(f"dataset '{name}' does not take {', '.join(refused)}")
    if not accepted:
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
