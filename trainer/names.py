"""Names of the registered datasets, methods and encoders, importable without torch.

The command-line tools build their parsers from these, so that ``--help`` and bad-argument
errors answer at once instead of after torch has loaded (seconds on a small machine). They
are the torch-free lists of ``shared.hyperparameters`` (one copy);
``tests/trainer/test_cli.py`` checks that they match the registries.
"""

from __future__ import annotations

from shared.hyperparameters import DATASETS as DATASET_NAMES
from shared.hyperparameters import ENCODERS as ENCODER_NAMES
from shared.hyperparameters import METHODS as METHOD_NAMES

__all__ = ["DATASET_NAMES", "ENCODER_NAMES", "METHOD_NAMES"]
