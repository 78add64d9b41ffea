"""PCGrad (Yu et al., NeurIPS 2020, https://arxiv.org/abs/2001.06782): each task's gradient is
projected onto the normal plane of every other task gradient it conflicts with (negative inner
product), in a random order, and the projected gradients are summed. TorchJD's ``PCGrad``
follows Algorithm 1 of the paper."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner


class PCGrad(TorchJDCombiner):
    name = "pcgrad"

    def build_aggregator(self):
        from torchjd.aggregation import PCGrad as Aggregator

        return Aggregator()
