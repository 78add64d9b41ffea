"""Random loss weighting (RLW; Lin et al., TMLR 2022, https://arxiv.org/abs/2111.10603):
each step sums the task gradients with weights softmax(z), z ~ N(0, I), drawn anew per step.
TorchJD's ``Random`` aggregator draws exactly those weights (from torch's seeded generator)."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner


class RLW(TorchJDCombiner):
    name = "rlw"

    def build_aggregator(self):
        from torchjd.aggregation import Random

        return Random()
