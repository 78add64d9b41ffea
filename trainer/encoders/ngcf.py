"""NGCF (Wang et al., SIGIR 2019, https://arxiv.org/abs/1905.08108): neural graph collaborative
filtering.

Layer l+1: ``LeakyReLU((L + I) E W1 + (L E) * E W2)`` with biases, L = D^-1/2 A D^-1/2 over the
user-item graph of training positives; each layer's output is L2-normalised and the final
vector concatenates layers 0..L (so its size is dim * (layers + 1)). Message and node dropout
of the original are left out: the trainer's other encoders have none either, and runs stay
deterministic under a seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainer.encoders.base import GraphEncoder
from trainer.registry import implements


@implements("encoder", "ngcf")
class NGCF(GraphEncoder):
    def __init__(
        self,
        num_users: int,
        num_items: int,
        dim: int,
        generator: torch.Generator,
        adjacency: torch.Tensor,
        layers: int = 3,
    ):
        super().__init__(num_users, num_items, dim, generator, adjacency, layers)
        self.self_weights = nn.ParameterList()
        self.pair_weights = nn.ParameterList()
        self.self_biases = nn.ParameterList()
        self.pair_biases = nn.ParameterList()
        for _ in range(layers):
            for weights in (self.self_weights, self.pair_weights):
                matrix = nn.Parameter(torch.empty(dim, dim))
                nn.init.xavier_uniform_(matrix, generator=generator)
                weights.append(matrix)
            for biases in (self.self_biases, self.pair_biases):
                vector = nn.Parameter(torch.empty(1, dim))
                nn.init.xavier_uniform_(vector, generator=generator)
                biases.append(vector)

    def dense_parameters(self) -> tuple[nn.Parameter, ...]:
        return (*self.self_weights, *self.pair_weights, *self.self_biases, *self.pair_biases)

    def forward(
        self, user_table: torch.Tensor, item_table: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        layer = torch.cat([user_table, item_table])
        outputs = [layer]
        for w1, w2, b1, b2 in zip(
            self.self_weights, self.pair_weights, self.self_biases, self.pair_biases
        ):
            neighbours = torch.sparse.mm(self.adjacency, layer)
            summed = (neighbours + layer) @ w1 + b1
            paired = (neighbours * layer) @ w2 + b2
            layer = F.leaky_relu(summed + paired, negative_slope=0.2)
            outputs.append(F.normalize(layer, dim=1))
        final = torch.cat(outputs, dim=1)
        return final[: user_table.shape[0]], final[user_table.shape[0] :]
