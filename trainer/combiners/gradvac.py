"""Gradient vaccine (GradVac; Wang et al., ICLR 2021, https://arxiv.org/abs/2010.05874): for
each pair of tasks whose gradient cosine similarity falls below an exponential moving average
target, the gradient is moved towards the other to reach the target; the EMA (rate ``beta``)
is updated every step. TorchJD's ``GradVac`` implements the paper's update over the whole
parameter vector (the paper also applies it per layer; here the shared parameters are one
block, the embedding tables)."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner
from trainer.registry import implements


@implements("combiner", "gradvac")
class GradVac(TorchJDCombiner):
    def __init__(self, gradvac_beta: float):
        self.beta = gradvac_beta
        super().__init__()

    def build_aggregator(self):
        from torchjd.aggregation import GradVac as Aggregator

        return Aggregator(beta=self.beta)
