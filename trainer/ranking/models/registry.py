"""The architectures, registered by name: ``@register_ranker`` on the class."""

from __future__ import annotations

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.samples import FeatureSchema

RANKERS: dict[str, type[Ranker]] = {}


def register_ranker(cls: type[Ranker]) -> type[Ranker]:
    if cls.name in RANKERS:
        raise ValueError(f"ranker '{cls.name}' registered twice")
    RANKERS[cls.name] = cls
    return cls


def build_ranker(name: str, schema: FeatureSchema, config: RankerConfig | None = None) -> Ranker:
    try:
        cls = RANKERS[name]
    except KeyError:
        raise ValueError(f"unknown model '{name}'; valid names: {', '.join(RANKERS)}") from None
    return cls(schema, config or RankerConfig())
