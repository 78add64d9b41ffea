"""The architectures, bound to their declarations (shared/components.py) by name:
``@implements("ranker", name)`` on the class."""

from __future__ import annotations

from collections.abc import Mapping

from shared.registry import RANKERS as DECLARED
from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.samples import FeatureSchema
from trainer.registry import Implementations, implementation

RANKERS: Mapping[str, type[Ranker]] = Implementations("ranker")


def build_ranker(name: str, schema: FeatureSchema, config: RankerConfig | None = None) -> Ranker:
    DECLARED.get(name)  # ValueError naming the valid ones for an unknown name
    return implementation("ranker", name)(schema, config or RankerConfig())
