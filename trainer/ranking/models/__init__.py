"""Ranking architectures, one file each, bound by name to their declarations (``RANKERS``).

Every module of this package is imported here, so a new architecture is its file (decorated
with ``@implements("ranker", name)``) and its declaration in ``shared/components.py``.
"""

import importlib
import pkgutil

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.registry import RANKERS, build_ranker

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["RANKERS", "Ranker", "RankerConfig", "build_ranker"]
