"""GradDrop (Chen et al., NeurIPS 2020, https://arxiv.org/abs/2010.06808): per coordinate,
the positive-sign purity P = (1 + sum_t g_t / sum_t |g_t|) / 2 decides at random (U < P) whether
the positive or the negative task gradients pass; the others are dropped. TorchJD's
``GradDrop`` implements lines 10-15 of the paper's Algorithm 1 (no leak)."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner


class GradDrop(TorchJDCombiner):
    name = "graddrop"

    def build_aggregator(self):
        from torchjd.aggregation import GradDrop as Aggregator

        return Aggregator()
