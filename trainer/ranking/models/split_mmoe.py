"""Split-MMoE (DRGrad's backbone, Liu et al., AAAI 2025, Fig. 1(b)): MMoE whose primary task
(task 0) has a dedicated part P, an expert only it reads, beside the shared part S, its gate's
mixture of the shared experts. Its tower reads ``w_P * h_P + w_S * h_S`` with
``(w_P, w_S) = softmax(accumulators / temperature)``; the accumulators are buffers that only
DRGrad's updater changes, so here they stay 0 and the weights 1/2, 1/2."""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.layers import ExpertBank, init_linear, mlp
from trainer.ranking.models.mmoe import mix
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements


@implements("ranker", "split_mmoe")
class SplitMMoE(Ranker):
    uses = ("num_experts", "expert_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        in_dim = self.input_width
        self.experts = ExpertBank(config.num_experts, in_dim, config.expert_dims)
        self.dedicated = ExpertBank(1, in_dim, config.expert_dims)
        self.gates = nn.ModuleList(
            nn.Linear(in_dim, config.num_experts) for _ in range(self.num_tasks)
        )
        self.towers = nn.ModuleList(
            mlp(config.expert_dims[-1], config.tower_dims, config.dropout, out=1)
            for _ in range(self.num_tasks)
        )
        # (accumulator of P, accumulator of S): DRGrad's updater moves them.
        self.register_buffer("accumulators", torch.zeros(2))
        init_linear(self)

    def part_weights(self) -> torch.Tensor:
        return torch.softmax(self.accumulators / self.config.updater_temperature, dim=0)

    def bottom(
        self, embedded: torch.Tensor, categorical: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gate input x [batch, in], shared experts [batch, E, D], dedicated part [batch, D]."""
        x = embedded.flatten(1)
        return x, self.experts(x), self.dedicated(x)[:, 0]

    def tower_inputs(
        self, x: torch.Tensor, experts: torch.Tensor, dedicated: torch.Tensor
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Each task's gate logits [batch, E] and tower input [batch, D]."""
        weights = self.part_weights()
        w_dedicated, w_shared = weights[0], weights[1]
        gate_logits = [gate(x) for gate in self.gates]
        inputs = [mix(g, experts) for g in gate_logits]
        inputs[0] = w_dedicated * dedicated + w_shared * inputs[0]
        return gate_logits, inputs

    def towers_of(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        """Logits [batch, tasks] from the tower inputs."""
        return torch.cat([tower(h) for tower, h in zip(self.towers, inputs)], dim=1)

    def top(
        self, x: torch.Tensor, experts: torch.Tensor, dedicated: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits and each task's tower input."""
        _, inputs = self.tower_inputs(x, experts, dedicated)
        return self.towers_of(inputs), inputs

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        return self.top(*self.bottom(embedded, categorical))[0]

    def shared_modules(self) -> list[nn.Module]:
        return [self.experts]
