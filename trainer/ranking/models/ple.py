"""PLE (Tang et al., RecSys 2020, https://dl.acm.org/doi/10.1145/3383313.3412236):
customised gate control (CGC) levels of task-specific and shared experts. Task t's gate mixes
its own and the shared experts; below the last level a shared gate mixes every expert into
the next level's shared input. ``levels`` = 1 is CGC alone."""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.layers import ExpertBank, init_linear, mlp
from trainer.ranking.models.mmoe import mix
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements


class ExtractionLevel(nn.Module):
    def __init__(self, tasks: int, in_dim: int, config: RankerConfig, last: bool):
        super().__init__()
        specific, shared = config.specific_experts, config.shared_experts
        self.specific = nn.ModuleList(
            ExpertBank(specific, in_dim, config.expert_dims) for _ in range(tasks)
        )
        self.shared = ExpertBank(shared, in_dim, config.expert_dims)
        self.task_gates = nn.ModuleList(nn.Linear(in_dim, specific + shared) for _ in range(tasks))
        self.shared_gate = None if last else nn.Linear(in_dim, tasks * specific + shared)

    def forward(
        self, task_inputs: list[torch.Tensor], shared_input: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        shared = self.shared(shared_input)
        specific = [bank(x) for bank, x in zip(self.specific, task_inputs)]
        outputs = [
            mix(gate(x), torch.cat([own, shared], dim=1))
            for gate, x, own in zip(self.task_gates, task_inputs, specific)
        ]
        if self.shared_gate is None:
            return outputs, None
        every = torch.cat([*specific, shared], dim=1)
        return outputs, mix(self.shared_gate(shared_input), every)


@implements("ranker", "ple")
class PLE(Ranker):
    uses = ("levels", "specific_experts", "shared_experts", "expert_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        if config.levels not in (1, 2):
            raise ValueError(f"PLE takes levels 1 or 2, got {config.levels}")
        in_dim = self.input_width
        width = config.expert_dims[-1]
        self.levels = nn.ModuleList(
            ExtractionLevel(
                self.num_tasks, in_dim if i == 0 else width, config, last=i == config.levels - 1
            )
            for i in range(config.levels)
        )
        self.towers = nn.ModuleList(
            mlp(width, config.tower_dims, config.dropout, out=1) for _ in range(self.num_tasks)
        )
        init_linear(self)

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        x = embedded.flatten(1)
        task_inputs, shared = [x] * self.num_tasks, x
        for level in self.levels:
            task_inputs, shared = level(task_inputs, shared)
        return torch.cat([tower(h) for tower, h in zip(self.towers, task_inputs)], dim=1)

    def shared_modules(self) -> list[nn.Module]:
        return [level.shared for level in self.levels]
