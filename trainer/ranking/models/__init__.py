"""Ranking architectures, one file each, registered by name in ``RANKERS``."""

from trainer.ranking.models import drgrad, mmoe, ple, shared_bottom, split_mmoe, stem  # noqa: F401
from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.registry import RANKERS, build_ranker, register_ranker

__all__ = ["RANKERS", "Ranker", "RankerConfig", "build_ranker", "register_ranker"]
