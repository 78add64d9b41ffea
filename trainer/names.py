"""Names of the declared datasets, methods and encoders, importable without torch.

The command-line tools build their parsers from these, so that ``--help`` and bad-argument
errors answer at once instead of after torch has loaded (seconds on a small machine). They
come from the declarations (``shared/components.py``, plug-ins included).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from shared.components import DEFAULT_METHOD, default_method
from shared.registry import COMBINERS, DATASETS, ENCODERS, Param

DATASET_NAMES = DATASETS.names()
ENCODER_NAMES = ENCODERS.names()
METHOD_NAMES = COMBINERS.names()


def add_param_arguments(group: argparse._ActionsContainer, params: Iterable[Param]) -> None:
    """One flag per declared parameter (``--link-ratio`` for ``link_ratio``), default None
    (the configuration's default applies), typed and described by the declaration."""
    for param in params:
        if param.type is bool:
            group.add_argument(param.flag, dest=param.name, action="store_true", help=param.help)
            continue
        options = {"dest": param.name, "help": param.help}
        if param.choices is not None:
            options["choices"] = list(param.choices)
        options["type"] = param.type
        group.add_argument(param.flag, **options)


__all__ = [
    "DATASET_NAMES",
    "DEFAULT_METHOD",
    "ENCODER_NAMES",
    "METHOD_NAMES",
    "add_param_arguments",
    "default_method",
]
