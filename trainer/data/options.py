"""Options some dataset loaders take beyond the data folder (the ``trainer.fit`` flags)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from trainer.data.sources import DatasetError

# Option name -> the command-line flag that sets it (for messages).
FLAGS = {
    "core": "--core",
    "interactions": "--interactions",
    "item_pairs": "--item-pairs",
    "user_pairs": "--user-pairs",
    "skip_bad_rows": "--skip-bad-rows",
    "target_behavior": "--target-behavior",
}


@dataclass(frozen=True)
class LoadOptions:
    """How to load a dataset.

    ``core``: keep the iterative k-core of the interactions (0: keep everything).
    ``interactions``, ``item_pairs``, ``user_pairs``: the files of the ``csv`` dataset.
    ``skip_bad_rows``: skip and count malformed rows instead of stopping at the first one.
    ``target_behavior``: the ``csv`` dataset's interactions name a behavior per row; this one
    is the target, every other one an auxiliary task.
    """

    core: int = 0
    interactions: Path | None = None
    item_pairs: Path | None = None
    user_pairs: Path | None = None
    skip_bad_rows: bool = False
    target_behavior: str | None = None

    def __post_init__(self) -> None:
        if self.core < 0:
            raise DatasetError(f"--core must be >= 0 (0 keeps every interaction), got {self.core}")

    def given(self) -> list[str]:
        """Names of the options set to something other than their default."""
        return [f.name for f in fields(self) if getattr(self, f.name) != f.default]

    def to_manifest(self) -> dict[str, object]:
        """The options set, JSON-ready (paths as strings), to reload the same dataset."""
        return {
            name: str(value) if isinstance(value, Path) else value
            for name in self.given()
            for value in (getattr(self, name),)
        }

    @classmethod
    def from_manifest(cls, values: dict[str, object]) -> LoadOptions:
        paths = {"interactions", "item_pairs", "user_pairs"}
        return cls(**{k: Path(str(v)) if k in paths else v for k, v in values.items()})
