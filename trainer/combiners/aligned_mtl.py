"""Aligned-MTL (Senushkin et al., CVPR 2023, https://arxiv.org/abs/2305.19000): the task
gradients are aligned by a balance transformation of their Gram matrix, making the combined
system well conditioned (all singular values equal, scaled by the smallest one), then averaged.
TorchJD's ``AlignedMTL`` was adapted from the authors' implementation."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner
from trainer.registry import implements


@implements("combiner", "aligned_mtl")
class AlignedMTL(TorchJDCombiner):
    def build_aggregator(self):
        from torchjd.aggregation import AlignedMTL as Aggregator

        return Aggregator()
