"""A toy gradient combiner's declaration: torch-free, so the service can load it too.

PMTREC_PLUGINS=tests.plugins.toy python -m trainer.fit --method toy --toy-param 0.5
"""

from __future__ import annotations

from shared.registry import Param, declare

TOY = declare(
    "combiner",
    "toy",
    (
        Param(
            "toy_param",
            float,
            1.0,
            "weight of every auxiliary task's loss (the main task's is 1)",
            low=0,
            high=1,
            tuning=(0.5, 1.0),
        ),
    ),
    "the main task's loss plus toy_param times each auxiliary task's",
    implementation="tests.plugins.toy_combiner",
)
