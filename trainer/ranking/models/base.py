"""The ranker seam: samples' features -> one logit per task, per-task losses, a backward
step, and which parameters all tasks share (what a gradient combiner may combine)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from trainer.ranking.models.layers import FeatureEmbedding
from trainer.ranking.samples import FeatureSchema


@dataclass(frozen=True)
class RankerConfig:
    """Architecture hyper-parameters; each architecture reads the ones it uses.

    Defaults are torch-rechub's Census-Income sizes (embeddings 4 wide, 8 experts of [16],
    towers [8]); PLE and STEM-Net share ``specific_experts`` (1 per task) and
    ``shared_experts`` (4) at the same expert width, so the table compares structures at
    one size rather than the STEM authors' [512, 512, 512] experts."""

    dim: int = 4
    bottom_dims: tuple[int, ...] = (64,)
    expert_dims: tuple[int, ...] = (16,)
    num_experts: int = 8
    tower_dims: tuple[int, ...] = (8,)
    specific_experts: int = 1
    shared_experts: int = 4
    levels: int = 1
    dropout: float = 0.0
    embedding_l2: float = 1e-6
    # One more input vector: the features' bi-interaction pooling (layers.FeatureEmbedding).
    interaction: bool = False
    # DRGrad (see drgrad.py for what each one means).
    router: bool = True
    updater: bool = True
    personal_gate: bool = True
    route_threshold: float = 0.0
    route_clip: float = 1.0
    route_scale: float = 1.0
    route_granularity: str = "batch"
    updater_momentum: float = 0.99
    updater_temperature: float = 1.0
    gate_gamma: float = 2.0

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RankerConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown ranker options {unknown}; valid names: {', '.join(sorted(known))}"
            )
        converted = {
            k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known
        }
        return cls(**converted)

    def to_dict(self) -> dict[str, Any]:
        values = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        for name, default in KEYED_ONLY_OFF_DEFAULT.items():  # earlier run keys still match
            if values[name] == default:
                del values[name]
        return values


# Options added after runs were recorded: absent from to_dict() (so from the experiments'
# run keys) while they hold their default. (DRGrad's runs recorded before
# ``route_granularity`` existed routed per sample; their keys carry "sample".)
KEYED_ONLY_OFF_DEFAULT: dict[str, Any] = {"route_scale": 1.0, "route_granularity": "batch"}


class Ranker(nn.Module):
    """A multi-task ranker. ``forward`` gives logits [batch, tasks]; ``backward`` fills the
    gradients of one training batch (BCE of every task summed, plus L2 on the embeddings)
    and returns the tasks' losses; the trainer steps the optimiser."""

    name: ClassVar[str]
    # Hyper-parameters of RankerConfig this architecture reads (shown in __repr__, manifests).
    uses: ClassVar[tuple[str, ...]] = ()
    # False where the ranker shapes its own gradients (DRGrad): no combiner on top of it.
    accepts_combiner: ClassVar[bool] = True

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__()
        self.schema = schema
        self.config = config
        self.num_tasks = len(schema.tasks)
        self.embedding = FeatureEmbedding(schema, self.embedding_dim(), config.interaction)

    @property
    def input_width(self) -> int:
        """Width of the flattened input vectors: every feature's (and the interaction's)
        ``dim``-wide vector."""
        return self.embedding.num_outputs * self.config.dim

    def embedding_dim(self) -> int:
        return self.config.dim

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        return self.head(self.embedding(categorical, numeric), categorical)

    def head(self, embedded: torch.Tensor, categorical: torch.Tensor) -> torch.Tensor:
        """Logits [batch, tasks] from the embedded features [batch, features, dim]."""
        raise NotImplementedError

    def task_losses(self, logits: torch.Tensor, labels: torch.Tensor) -> list[torch.Tensor]:
        """Each task's mean BCE over the samples that carry its label: a NaN label is
        unobserved (pairs.py, ``other_behaviors="unlabelled"``) and left out; a batch with
        none of a task's labels gives that task a zero loss."""
        losses = []
        for t in range(self.num_tasks):
            target = labels[:, t]
            observed = ~torch.isnan(target)
            if bool(observed.all()):
                losses.append(F.binary_cross_entropy_with_logits(logits[:, t], target))
                continue
            each = F.binary_cross_entropy_with_logits(
                logits[:, t], torch.nan_to_num(target), reduction="none"
            )
            losses.append((each * observed).sum() / observed.sum().clamp(min=1))
        return losses

    def regularization(self) -> torch.Tensor:
        return self.config.embedding_l2 * self.embedding.l2()

    def backward(
        self, categorical: torch.Tensor, numeric: torch.Tensor, labels: torch.Tensor, epoch: int
    ) -> list[float]:
        losses = self.task_losses(self(categorical, numeric), labels)
        (sum(losses) + self.regularization()).backward()
        return [loss.item() for loss in losses]

    def shared_modules(self) -> list[nn.Module]:
        """Modules every task's loss reaches besides the embedding table (shared bottom,
        shared experts); the combiner seam combines the tasks' gradients on them."""
        raise NotImplementedError

    @torch.no_grad()
    def predict(
        self, categorical: torch.Tensor, numeric: torch.Tensor, batch_size: int = 8192
    ) -> torch.Tensor:
        """Probabilities [n, tasks] in evaluation mode."""
        was_training = self.training
        self.eval()
        parts = [
            torch.sigmoid(self(c, n))
            for c, n in zip(categorical.split(batch_size), numeric.split(batch_size))
        ]
        self.train(was_training)
        return torch.cat(parts) if parts else torch.empty(0, self.num_tasks)

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={getattr(self.config, k)}" for k in ("dim", *self.uses))
        return f"{type(self).__name__}({options})"
