"""Names of the registered datasets, methods and encoders, importable without torch.

The command-line tools build their parsers from these, so that ``--help`` and bad-argument
errors answer at once instead of after torch has loaded (seconds on a small machine).
``tests/trainer/test_cli.py`` checks that they match the registries.
"""

from __future__ import annotations

DATASET_NAMES = ("office", "epinions", "amazon-hin", "videogame", "csv")
METHOD_NAMES = (
    "pmtrec",
    "ew",
    "bpr",
    "graddrop",
    "pcgrad",
    "gradvac",
    "cagrad",
    "aligned_mtl",
    "nash_mtl",
    "rlw",
)
ENCODER_NAMES = ("mf", "lightgcn", "ngcf")
