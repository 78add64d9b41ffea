"""Building blocks of the rankers: the feature-embedding layer, MLPs and expert banks."""

from __future__ import annotations

import torch
from torch import nn

from trainer.ranking.samples import FeatureSchema


class FeatureEmbedding(nn.Module):
    """Every feature -> one ``dim``-wide vector: categorical values by lookup in one table
    (each feature's vocabulary at its own row offset, so a row is one (feature, value)), a
    numeric feature as its value times a learned vector (the fuxictr convention, which gives
    every feature the same width and lets STEM-Net cut every feature into chunks).

    With ``interaction``, one more vector follows the features: their bi-interaction pooling
    (NFM, He and Chua, SIGIR 2017), the sum of the element-wise products of every pair of
    feature vectors, 0.5 * ((sum v)^2 - sum v^2). With two features (a user and an item) it
    is exactly u * i, the product matrix factorization scores with, which an MLP over the
    concatenated vectors learns poorly; it is element-wise, so on STEM-Net's chunked vectors it
    is the pooling of each chunk side by side.

    Embeddings start at N(0, 1e-4) as in the STEM authors' code."""

    def __init__(self, schema: FeatureSchema, dim: int, interaction: bool = False):
        super().__init__()
        self.dim = dim
        self.interaction = interaction
        self.num_outputs = schema.num_features + int(interaction)
        offsets = [0]
        for size in schema.cardinalities[:-1]:
            offsets.append(offsets[-1] + size)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.long), persistent=False)
        self.table = nn.Parameter(torch.randn(sum(schema.cardinalities), dim) * 1e-4)
        self.numeric_vectors = nn.Parameter(torch.randn(len(schema.numeric), dim) * 1e-4)
        self.num_categorical = len(schema.categorical)

    def rows(self, categorical: torch.Tensor) -> torch.Tensor:
        """Table rows [batch, C] of the samples' categorical values."""
        return categorical + self.offsets[: self.num_categorical]

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """[batch, features, dim]: categorical features first, then numeric ones."""
        return self.combine(self.table[self.rows(categorical)], numeric)

    def combine(
        self, looked_up: torch.Tensor, numeric: torch.Tensor, vectors: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Looked-up rows [batch, C, d] and the numeric features times ``vectors`` (default:
        the whole numeric vectors; STEM-Net passes one chunk of them) -> [batch, F, d]."""
        vectors = self.numeric_vectors if vectors is None else vectors
        return self.with_interaction(
            torch.cat([looked_up, numeric.unsqueeze(-1) * vectors], dim=1), dim=1
        )

    def with_interaction(self, features: torch.Tensor, dim: int) -> torch.Tensor:
        """``features`` [..., F, ..., d] (the features along ``dim``), followed along ``dim``
        by their bi-interaction pooling when the layer has one; unchanged otherwise."""
        if not self.interaction:
            return features
        pooled = 0.5 * (features.sum(dim).pow(2) - features.pow(2).sum(dim))
        return torch.cat([features, pooled.unsqueeze(dim)], dim=dim)

    def l2(self) -> torch.Tensor:
        return self.table.pow(2).sum() + self.numeric_vectors.pow(2).sum()


def mlp(in_dim: int, dims: tuple[int, ...], dropout: float = 0.0, out: int | None = None):
    """ReLU MLP through ``dims``, then an optional linear output layer of width ``out``."""
    layers: list[nn.Module] = []
    for width in dims:
        layers += [nn.Linear(in_dim, width), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        in_dim = width
    if out is not None:
        layers.append(nn.Linear(in_dim, out))
    return nn.Sequential(*layers)


class ExpertBank(nn.Module):
    """``count`` experts of the same shape (ReLU MLPs through ``dims``) evaluated as one
    batched matrix product per layer, which on CPU is several times faster than a loop over
    separate MLPs. Input [batch, in] (every expert reads the same vector) or
    [batch, count, in] (expert e reads its own); output [batch, count, dims[-1]]."""

    def __init__(self, count: int, in_dim: int, dims: tuple[int, ...]):
        super().__init__()
        self.count = count
        self.out_dim = dims[-1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for width in dims:
            weight = torch.empty(count, in_dim, width)
            for e in range(count):
                nn.init.xavier_normal_(weight[e].T)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(torch.zeros(count, width)))
            in_dim = width

    def first_weight(self) -> torch.Tensor:
        """The first layer's weights of every expert side by side, [in, count * width]: the
        matrix of one product when every expert reads the same vector."""
        count, width_in, width = self.weights[0].shape
        return self.weights[0].permute(1, 0, 2).reshape(width_in, count * width)

    def from_first(self, product: torch.Tensor) -> torch.Tensor:
        """The experts' output [batch, count, out] from the first layer's product without
        its bias, [batch, count * width] (the caller may compute it fused with others)."""
        if torch.onnx.is_in_onnx_export():
            # The served graph: the bias and ReLU on the flat product, which onnxruntime fuses
            # with the product into one Gemm (the same values).
            x = torch.relu(product + self.biases[0].flatten()).unflatten(-1, self.biases[0].shape)
        else:
            x = torch.relu(product.unflatten(-1, self.biases[0].shape) + self.biases[0])
        for weight, bias in zip(self.weights[1:], self.biases[1:]):
            x = torch.relu(torch.einsum("bei,eio->beo", x, weight) + bias)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            # Every expert reads the same vector: one matrix product for all of them.
            return self.from_first(x @ self.first_weight())
        for weight, bias in zip(self.weights, self.biases):
            x = torch.relu(torch.einsum("bei,eio->beo", x, weight) + bias)
        return x


def init_linear(module: nn.Module) -> None:
    """Xavier-normal weights and zero biases on every linear layer (the authors' init)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
