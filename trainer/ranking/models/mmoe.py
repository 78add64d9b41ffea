"""MMoE (Ma et al., KDD 2018, https://dl.acm.org/doi/10.1145/3219819.3220007): shared
experts, a softmax gate per task over them, a tower per task."""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.layers import ExpertBank, init_linear, mlp
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements


def mix(gate_logits: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
    """Softmax-weighted sum of expert outputs: [batch, E] x [batch, E, D] -> [batch, D]."""
    weights = torch.softmax(gate_logits, dim=1)
    if torch.onnx.is_in_onnx_export():
        # The served graph: onnxruntime runs a batched [1, E] x [E, D] product per sample
        # faster than its broadcast multiply and sum over the experts axis (the default MMoE
        # over 200 to 3,200 candidates: 1.1 to 1.6 times as fast, measured on a busy 2-core
        # machine); the outputs are the same.
        return torch.matmul(weights.unsqueeze(1), experts).squeeze(1)
    # Training: with a handful of experts, broadcast and sum is cheaper in torch than the
    # batched product, forward and backward.
    return (weights.unsqueeze(-1) * experts).sum(dim=1)


@implements("ranker", "mmoe")
class MMoE(Ranker):
    uses = ("num_experts", "expert_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        in_dim = self.input_width
        self.experts = ExpertBank(config.num_experts, in_dim, config.expert_dims)
        self.gates = nn.ModuleList(
            nn.Linear(in_dim, config.num_experts) for _ in range(self.num_tasks)
        )
        self.towers = nn.ModuleList(
            mlp(config.expert_dims[-1], config.tower_dims, config.dropout, out=1)
            for _ in range(self.num_tasks)
        )
        init_linear(self)

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        x = embedded.flatten(1)
        experts = self.experts(x)
        if torch.onnx.is_in_onnx_export():
            # The served graph: every task's gate as one product and every task's mix as one
            # batched [T, E] x [E, D] product per sample (onnxruntime's cost is per product,
            # not per row of it); the same values as the loop below.
            logits = nn.functional.linear(
                x,
                torch.cat([gate.weight for gate in self.gates]),
                torch.cat([gate.bias for gate in self.gates]),
            ).unflatten(1, (self.num_tasks, -1))
            mixed = torch.matmul(torch.softmax(logits, dim=2), experts)  # [batch, T, D]
            return torch.cat(
                [tower(part) for part, tower in zip(mixed.unbind(1), self.towers)], dim=1
            )
        return torch.cat(
            [tower(mix(gate(x), experts)) for gate, tower in zip(self.gates, self.towers)], dim=1
        )

    def shared_modules(self) -> list[nn.Module]:
        return [self.experts]
