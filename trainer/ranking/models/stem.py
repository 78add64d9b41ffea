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
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements


@implements("ranker", "stem")
class STEMNet(Ranker):
    uses = ("specific_experts", "shared_experts", "expert_dims", "tower_dims")

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        in_dim = self.input_width
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
        if self.embedding.interaction or not self.schema.numeric:
            # The pooling reads every feature's vector; without numeric features the full
            # chunks are the categorical ones (and the served graph keeps its numeric input).
            return self.chunked_head(*self.chunk_inputs(categorical, numeric))
        return self.chunked_head(*self.categorical_chunks(categorical), numeric=numeric)

    def categorical_chunks(self, categorical: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The categorical features' chunks only: ([T, batch, C * dim], [batch, C * dim]),
        each from one gather (see ``chunk_inputs``)."""
        dim, chunks = self.config.dim, self.num_tasks + 1
        table = self.embedding.table.view(-1, dim)
        rows = self.embedding.rows(categorical) * chunks
        task_rows = rows.unsqueeze(0) + torch.arange(self.num_tasks).view(-1, 1, 1)
        width = rows.shape[1] * dim  # a constant of the schema (the batch stays symbolic)
        task_chunks = table.index_select(0, task_rows.flatten()).view(self.num_tasks, -1, width)
        shared_chunk = table.index_select(0, (rows + self.num_tasks).flatten())
        return task_chunks, shared_chunk.view(-1, width)

    def numeric_weights(self, weight: torch.Tensor, chunk: int) -> torch.Tensor:
        """[numeric features, out]: what one unit of each numeric feature adds to a first
        layer with ``weight`` [features * dim, out] on chunk ``chunk``. Numeric feature n
        enters as value * v_n (v_n its vector's chunk), so its part of the product is
        value * (v_n @ W_n), W_n its ``dim`` rows of the weight."""
        dim, numeric = self.config.dim, len(self.schema.numeric)
        vectors = self.embedding.numeric_vectors.view(numeric, self.num_tasks + 1, dim)[:, chunk]
        rows = weight[weight.shape[0] - numeric * dim :].view(numeric, dim, -1)
        return torch.einsum("nd,ndo->no", vectors, rows)

    def chunk_inputs(
        self, categorical: torch.Tensor, numeric: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_1 ... x_T stacked [T, batch, features * dim], x_s [batch, features * dim]),
        each from one gather. The table keeps a row per (feature, value) with its T + 1
        chunks side by side; seen as [rows * (T + 1), dim], chunk c of row r is row
        r * (T + 1) + c, so one gather gives chunk c of every feature already in the layout
        of one batched matrix product (cutting looked-up rows into chunks copied every chunk
        out of them; one lookup per chunk cost a gather and a scatter per chunk). The shared
        chunk has its own gather so that no backward concatenates the chunks' gradients."""
        embedding, dim = self.embedding, self.config.dim
        chunks = self.num_tasks + 1
        table = embedding.table.view(-1, dim)
        rows = embedding.rows(categorical) * chunks
        vectors = embedding.numeric_vectors.view(-1, chunks, dim)
        task_rows = rows.unsqueeze(0) + torch.arange(self.num_tasks).view(-1, 1, 1)
        task_chunks = table.index_select(0, task_rows.flatten()).view(*task_rows.shape, dim)
        task_numbers = numeric.unsqueeze(-1) * vectors[:, : self.num_tasks].transpose(0, 1)[:, None]
        shared_rows = rows + self.num_tasks
        shared_chunk = table.index_select(0, shared_rows.flatten()).view(*shared_rows.shape, dim)
        shared_numbers = numeric.unsqueeze(-1) * vectors[:, self.num_tasks]
        return (
            embedding.with_interaction(torch.cat([task_chunks, task_numbers], dim=2), 2).flatten(2),
            embedding.with_interaction(torch.cat([shared_chunk, shared_numbers], dim=1), 1).flatten(
                1
            ),
        )

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        """From whole embedded rows [batch, features, (T + 1) * dim] (the combiner seam)."""
        batch, features = embedded.shape[:2]
        chunked = embedded.view(batch, features, self.num_tasks + 1, self.config.dim)
        task_inputs, shared_input = (
            chunked.permute(2, 0, 1, 3).flatten(2).split([self.num_tasks, 1])
        )
        return self.chunked_head(task_inputs, shared_input.squeeze(0))

    def chunked_head(
        self,
        task_inputs: torch.Tensor,
        shared_input: torch.Tensor,
        numeric: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits [batch, T] from x_1 ... x_T [T, batch, in] and x_s [batch, in]. Every first
        layer that reads the inputs is one of two products: a batched one over the tasks
        (task t's specific experts and gate on x_t) and one on x_s (the shared experts and
        every gate): gate t is softmax(W_t (x_t + x_s) + b_t) computed as W_t x_t + W_t x_s.
        Splits, not indexing, cut the products: a split's backward concatenates the parts'
        gradients, where an index's backward fills a zero tensor of the whole per part.

        With ``numeric`` [batch, N], the inputs hold the categorical features' chunks only
        and the numeric features enter the products as ``numeric @ numeric_weights``: the
        same sums, without forming or concatenating their value-times-vector chunks."""
        gate_weights = [gate.weight.t() for gate in self.gates]
        gate_widths = [w.shape[1] for w in gate_weights]
        task_weights = [
            torch.cat([bank.first_weight(), w], dim=1)
            for bank, w in zip(self.specific, gate_weights)
        ]
        shared_weight = self.shared.first_weight()
        shared_weights = torch.cat([shared_weight, *gate_weights], dim=1)
        if numeric is None:
            per_task = torch.bmm(task_inputs, torch.stack(task_weights)).unbind(0)
            on_shared = shared_input @ shared_weights
        else:
            width = task_inputs.shape[2]
            per_task = torch.baddbmm(
                numeric
                @ torch.stack([self.numeric_weights(w, t) for t, w in enumerate(task_weights)]),
                task_inputs,
                torch.stack([w[:width] for w in task_weights]),
            ).unbind(0)
            on_shared = torch.addmm(
                numeric @ self.numeric_weights(shared_weights, self.num_tasks),
                shared_input,
                shared_weights[:width],
            )
        shared_product, *gate_logits = on_shared.split([shared_weight.shape[1], *gate_widths], 1)
        shared = self.shared.from_first(shared_product)
        width = task_weights[0].shape[1] - gate_widths[0]
        specific, own_gate_logits = [], []
        for bank, product in zip(self.specific, per_task):
            expert_product, gate_product = product.split([width, product.shape[1] - width], 1)
            specific.append(bank.from_first(expert_product))
            own_gate_logits.append(gate_product)
        logits = []
        for t, (gate, tower) in enumerate(zip(self.gates, self.towers)):
            visible = [own if u == t else own.detach() for u, own in enumerate(specific)]
            experts = torch.cat([*visible, shared], dim=1)
            scores = own_gate_logits[t] + gate_logits[t] + gate.bias
            logits.append(tower(mix(scores, experts)))
        return torch.cat(logits, dim=1)

    def shared_modules(self) -> list[nn.Module]:
        return [self.shared]
