"""Options some dataset loaders take beyond the data folder (the ``trainer.fit`` flags).

``LoadOptions`` has one field per load option the datasets declare (``shared/components.py``):
``core`` keeps the iterative k-core of the interactions (0: keep everything);
``interactions``, ``item_pairs``, ``user_pairs`` are the files of the ``csv`` dataset;
``skip_bad_rows`` skips and counts malformed rows instead of stopping at the first one;
``target_behavior`` names the ``csv`` dataset's target behavior when its rows name one each,
every other behavior being an auxiliary task.
"""

from __future__ import annotations

from dataclasses import fields, make_dataclass
from pathlib import Path
from typing import Any

from shared.components import load_option_params
from trainer.data.sources import DatasetError

_PARAMS = load_option_params()
# Option name -> the command-line flag that sets it (for messages).
FLAGS = {name: param.flag for name, param in _PARAMS.items()}
_PATHS = {name for name, param in _PARAMS.items() if param.type is Path}


def _check(self: Any) -> None:
    for name, param in _PARAMS.items():
        value = getattr(self, name)
        if value is None or value == param.default:
            continue
        problem = param.problem(value)
        if problem:
            raise DatasetError(problem.replace(name, FLAGS[name], 1))


def _given(self: Any) -> list[str]:
    """Names of the options set to something other than their default."""
    return [f.name for f in fields(self) if getattr(self, f.name) != f.default]


def _to_manifest(self: Any) -> dict[str, object]:
    """The options set, JSON-ready (paths as strings), to reload the same dataset."""
    return {
        name: str(value) if isinstance(value, Path) else value
        for name in self.given()
        for value in (getattr(self, name),)
    }


def _from_manifest(cls: type, values: dict[str, object]) -> Any:
    return cls(**{k: Path(str(v)) if k in _PATHS else v for k, v in values.items()})


LoadOptions = make_dataclass(
    "LoadOptions",
    [
        (name, (Path | None) if param.type is Path else param.type, param.default)
        for name, param in _PARAMS.items()
    ],
    frozen=True,
    namespace={
        "__doc__": "How to load a dataset: one field per declared load option.",
        "__module__": __name__,
        "__post_init__": _check,
        "given": _given,
        "to_manifest": _to_manifest,
        "from_manifest": classmethod(_from_manifest),
    },
)
