"""STEM-Net (Su et al., AAAI 2024, https://arxiv.org/abs/2308.13537), as the authors' code
does it (LiangcaiSu/STEM, models/STEM.py):

- every feature has one embedding of width ``dim * (T + 1)``: T task-specific chunks and one
  shared chunk; ``x_t`` is chunk t of every feature, ``x_s`` the shared chunks;
- task t has ``specific_experts`` experts reading ``x_t``; ``shared_experts`` experts read
  ``x_s``;
- All Forward, Task-specific Backward (AFTB): task t's gate, softmax(Linear(x_t + x_s)), sees
  every expert's output, but the other tasks' specific experts' outputs are detached, so task
  t's loss trains only the shared chunk, the shared experts and its own chunk and experts;
- a tower per task; loss = BCE summed over tasks + L2 on the embedding table.

The authors' experts are [512, 512, 512]; here they have the same widths as the other
architectures' experts (``expert_dims``), so the table compares structures at one size.
"""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.models.base import Ranker, RankerConfig
from trainer.ranking.models.layers import ExpertBank, init_linear, mlp
from trainer.ranking.models.mmoe import mix
from trainer.ranking.models.registry import register_ranker
from trainer.ranking.samples import FeatureSchema


@register_ranker
class STEMNet(Ranker):
    name = "stem"
    uses = ("specific_experts", "shared_experts", "expert_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        in_dim = schema.num_features * config.dim
        self.specific = nn.ModuleList(
            ExpertBank(config.specific_experts, in_dim, config.expert_dims)
            for _ in range(self.num_tasks)
        )
        self.shared = ExpertBank(config.shared_experts, in_dim, config.expert_dims)
        experts = self.num_tasks * config.specific_experts + config.shared_experts
        self.gates = nn.ModuleList(nn.Linear(in_dim, experts) for _ in range(self.num_tasks))
        self.towers = nn.ModuleList(
            mlp(config.expert_dims[-1], config.tower_dims, config.dropout, out=1)
            for _ in range(self.num_tasks)
        )
        init_linear(self)

    def embedding_dim(self) -> int:
        return self.config.dim * (len(self.schema.tasks) + 1)

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return self.chunked_head(self.chunk_inputs(categorical, numeric))

    def chunk_inputs(self, categorical: torch.Tensor, numeric: torch.Tensor) -> list[torch.Tensor]:
        """[x_1, ..., x_T, x_s], each [batch, features * dim], looked up chunk by chunk from
        the table's strided views: gathering whole rows and cutting them into chunks would
        copy every chunk out of the [batch, features, (T + 1) * dim] lookup (and concatenate
        the chunks' gradients backward), about 2x MMoE's time per step on Census."""
        embedding, dim = self.embedding, self.config.dim
        chunks = len(self.schema.tasks) + 1
        rows = embedding.rows(categorical)
        tables = embedding.table.view(-1, chunks, dim).unbind(1)
        vectors = embedding.numeric_vectors.view(-1, chunks, dim).unbind(1)
        return [
            embedding.combine(table[rows], numeric, vector).flatten(1)
            for table, vector in zip(tables, vectors)
        ]

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        chunks = [c.flatten(1) for c in embedded.split(self.config.dim, dim=2)]
        return self.chunked_head(chunks)

    def chunked_head(self, chunks: list[torch.Tensor]) -> torch.Tensor:
        *task_inputs, shared_input = chunks
        specific = [bank(x) for bank, x in zip(self.specific, task_inputs)]
        shared = self.shared(shared_input)
        logits = []
        for t, (gate, tower, x) in enumerate(zip(self.gates, self.towers, task_inputs)):
            visible = [own if u == t else own.detach() for u, own in enumerate(specific)]
            experts = torch.cat([*visible, shared], dim=1)
            logits.append(tower(mix(gate(x + shared_input), experts)))
        return torch.cat(logits, dim=1)

    def shared_modules(self) -> list[nn.Module]:
        return [self.shared]
