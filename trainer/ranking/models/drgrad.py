"""DRGrad (Liu et al., AAAI 2025, "Direct Routing Gradient"): a reconstruction.

Our copy of the paper has its equations stripped and no code was published, so every choice
below is ours, made to fit the paper's text; docs/ranking.md lists them too.

Backbone: Split-MMoE (split_mmoe.py): the primary task (task 0) reads
``w_P * h_P + w_S * h_S``, h_P its dedicated expert, h_S its gate's mixture of the shared
experts.

Router (backward only; ``router``):
  1. the "shared layer" is the shared experts' output O [batch, E, D]; g_t is task t's loss
     gradient on O summed over the batch (``route_granularity="batch"``, the default), as
     PCGrad (of which the paper calls the router a superset) takes batch gradients, so there
     is one decision per auxiliary task and batch; with ``"sample"``, g_t(b) is the gradient
     on O[b] and the router decides per sample (and, with the personalized gate, per user);
     the formulas below are written per sample, the batch router being the case where every
     sample shares the batch's g_t and so its cosine and coefficient;
  2. auxiliary task k cooperates on sample b when cos(g_0(b), g_k(b)) > ``route_threshold``
     (default 0, PCGrad's conflict test);
  3. its coefficient is lambda_k(b) = min(cos, ``route_clip``) (0 when it does not cooperate);
     the clip bounds the routed scale, the paper's convergence argument;
  4. routed gradient r(b) = alpha * sum_k lambda_k(b) u_k(b) (alpha = ``route_scale``, the
     paper's "coefficient constant", default 1), u_k(b) the gradient of task k's loss on
     its own tower input (width D, the width of h_P); r is added to the gradient of h_P, so the
     dedicated expert (and, through it, the embeddings it reads) learns from cooperative
     auxiliary signal; conflicting auxiliary gradients never reach P;
  5. the shared part keeps its ordinary gradient (every task's, unchanged).
  Why batch by default: the paper speaks of the gradients without the personalized gate as
  "the expected value of all users", and on Census-Income validation the batch router beat
  the per-sample one at every tuning point but one (docs/results.md).
  Cost: one backward pass, as Split-MMoE's. Task t's gradient on O[b] is rank one,
  p_t(b) (its gate's softmax, [E]) times u_t(b) (its loss's gradient on its tower input,
  [D]; for the primary task scaled by w_S > 0, which no cosine sees), so
  cos(g_0(b), g_k(b)) = cos(p_0(b), p_k(b)) * cos(u_0(b), u_k(b)) exactly, without
  forming g_t (the batch router sums those outer products over the batch: one [E, D] matrix
  per task); and since each tower reads only its own task's input, one backward pass of
  the summed loss down to the tower inputs gives every u_t at once. The graph is cut at
  the tower inputs: the towers are back-propagated once, the router runs on [batch, E] and
  [batch, D] vectors, and everything below the cut once, with r added on h_P. (Before,
  the router called autograd.grad once per task through the gates and towers and formed
  the [batch, E * D] gradients: 1.55x MMoE's time per epoch.)

Updater (forward; ``updater``, needs the router): accumulators (A_P, A_S), starting at 0, move
each step as exponential averages (``updater_momentum``) of the router's decisions: A_S of the
fraction of (sample, auxiliary task) pairs that cooperate (of auxiliary tasks, with the batch
router), A_P of the fraction that conflict;
(w_P, w_S) = softmax((A_P, A_S) / ``updater_temperature``). Much conflict on the shared layer
shifts the primary task toward its dedicated part; much cooperation toward the shared part.
With the updater off the weights stay 1/2, 1/2 (Split-MMoE's).

Personalized gate (``personal_gate``; only when the schema has a user id, PEPNet Gate-NU
style): g = ``gate_gamma`` * sigmoid(MLP(user-id embedding)) of width D multiplies every shared
expert's output. The last layer starts at zero, so g starts at exactly gamma/2 = 1 and
training begins as without it. Census-Income has no user id: DRGrad there is the paper's
"DRGrad w/o PPNet".

Ablations: ``split`` (router and updater off: exactly Split-MMoE), ``split_router`` (router
on, updater off), ``no_gate`` (router and updater, no personalized gate), ``full``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trainer.ranking.models.base import RankerConfig
from trainer.ranking.models.layers import mlp
from trainer.ranking.models.split_mmoe import SplitMMoE
from trainer.ranking.samples import FeatureSchema
from trainer.registry import implements

ABLATIONS: dict[str, dict[str, bool]] = {
    "split": {"router": False, "updater": False, "personal_gate": False},
    "split_router": {"router": True, "updater": False, "personal_gate": False},
    "no_gate": {"router": True, "updater": True, "personal_gate": False},
    "full": {"router": True, "updater": True, "personal_gate": True},
}


def _coefficients(cosine: torch.Tensor, threshold: float, clip: float) -> torch.Tensor:
    """lambda_k(b): min(cos, clip) where the task cooperates (cos > threshold), else 0."""
    return torch.where(cosine > threshold, cosine.clamp(max=clip), 0.0)


def route(
    primary_shared: torch.Tensor,
    auxiliary_shared: torch.Tensor,
    auxiliary_inputs: torch.Tensor,
    threshold: float,
    clip: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The router on per-sample gradients.

    ``primary_shared`` [batch, K]: the primary task's gradient on the shared layer;
    ``auxiliary_shared`` [aux, batch, K]: each auxiliary task's; ``auxiliary_inputs``
    [aux, batch, D]: each auxiliary task's gradient on its tower input. Returns the routed
    gradient [batch, D] and the coefficients [aux, batch] (0 where a task conflicts)."""
    cosine = F.cosine_similarity(primary_shared.unsqueeze(0), auxiliary_shared, dim=2, eps=1e-12)
    coefficients = _coefficients(cosine, threshold, clip)
    routed = torch.einsum("ab,abd->bd", coefficients, auxiliary_inputs)
    return routed, coefficients


def route_rank_one(
    primary_gate: torch.Tensor,
    primary_input: torch.Tensor,
    auxiliary_gates: torch.Tensor,
    auxiliary_inputs: torch.Tensor,
    threshold: float,
    clip: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``route`` where each task's gradient on the shared layer is the outer product of its
    gate's softmax ([batch, E]; auxiliary [aux, batch, E]) and its gradient on its tower
    input ([batch, D]; auxiliary [aux, batch, D]): the cosine of two outer products is the
    product of the two factors' cosines, so the [batch, E * D] gradients are never formed."""
    gates = F.cosine_similarity(primary_gate.unsqueeze(0), auxiliary_gates, dim=2, eps=1e-12)
    grads = F.cosine_similarity(primary_input.unsqueeze(0), auxiliary_inputs, dim=2, eps=1e-12)
    coefficients = _coefficients(gates * grads, threshold, clip)
    routed = torch.einsum("ab,abd->bd", coefficients, auxiliary_inputs)
    return routed, coefficients


def route_batch(
    primary_gate: torch.Tensor,
    primary_input: torch.Tensor,
    auxiliary_gates: torch.Tensor,
    auxiliary_inputs: torch.Tensor,
    threshold: float,
    clip: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``route_rank_one`` with one decision per batch: each task's gradient on the shared
    layer summed over the batch, sum_b p_t(b) u_t(b)^T ([E, D], formed: it is small), one
    cosine per auxiliary task. Returns the routed gradient [batch, D] and the coefficients
    [aux]."""
    primary = torch.einsum("be,bd->ed", primary_gate, primary_input).flatten()
    auxiliary = torch.einsum("abe,abd->aed", auxiliary_gates, auxiliary_inputs).flatten(1)
    cosine = F.cosine_similarity(primary.unsqueeze(0), auxiliary, dim=1, eps=1e-12)
    coefficients = _coefficients(cosine, threshold, clip)
    routed = torch.einsum("a,abd->bd", coefficients, auxiliary_inputs)
    return routed, coefficients


ROUTERS = {"sample": route_rank_one, "batch": route_batch}


@implements("ranker", "drgrad")
class DRGrad(SplitMMoE):
    uses = (
        "num_experts",
        "expert_dims",
        "tower_dims",
        "router",
        "updater",
        "personal_gate",
        "route_threshold",
        "route_clip",
        "route_scale",
        "route_granularity",
    )
    accepts_combiner = False

    def __init__(self, schema: FeatureSchema, config: RankerConfig):
        super().__init__(schema, config)
        if config.route_granularity not in ROUTERS:
            raise ValueError(
                f"route_granularity must be one of {', '.join(ROUTERS)}, "
                f"not {config.route_granularity!r}"
            )
        if config.updater and not config.router:
            raise ValueError("DRGrad's updater follows the router's decisions: turn both on")
        self.user_index = schema.user_index
        self.personal = None
        if config.personal_gate and self.user_index is not None:
            width = config.expert_dims[-1]
            self.personal = mlp(config.dim, (width,), out=width)
            nn.init.zeros_(self.personal[-1].weight)
            nn.init.zeros_(self.personal[-1].bias)
        self.last_cooperation = float("nan")

    def personal_gate(self, embedded: torch.Tensor) -> torch.Tensor | None:
        """[batch, D] multipliers of the shared experts' outputs, or None without a user id."""
        if self.personal is None:
            return None
        user = embedded[:, self.user_index]
        return self.config.gate_gamma * torch.sigmoid(self.personal(user))

    def bottom(self, embedded: torch.Tensor, categorical: torch.Tensor):
        x, experts, dedicated = super().bottom(embedded, categorical)
        gate = self.personal_gate(embedded)
        if gate is not None:
            experts = experts * gate.unsqueeze(1)
        return x, experts, dedicated

    def backward(
        self, categorical: torch.Tensor, numeric: torch.Tensor, labels: torch.Tensor, epoch: int
    ) -> list[float]:
        if not self.config.router:
            return super().backward(categorical, numeric, labels, epoch)
        embedded = self.embedding(categorical, numeric)
        x, experts, dedicated = self.bottom(embedded, categorical)
        gate_logits, inputs = self.tower_inputs(x, experts, dedicated)
        # Cut at the tower inputs: one pass through the towers gives every task's u_t.
        cut = [h.detach().requires_grad_() for h in inputs]
        losses = self.task_losses(self.towers_of(cut), labels)
        sum(losses).backward()
        on_inputs = [h.grad for h in cut]
        with torch.no_grad():
            gates = [torch.softmax(g, dim=1) for g in gate_logits]
            routed, coefficients = ROUTERS[self.config.route_granularity](
                gates[0],
                on_inputs[0],
                torch.stack(gates[1:]),
                torch.stack(on_inputs[1:]),
                self.config.route_threshold,
                self.config.route_clip,
            )
            routed = routed.mul_(self.config.route_scale)
        # Below the cut once: every task's gradient, and the routed one on h_P.
        torch.autograd.backward([*inputs, dedicated], [*on_inputs, routed])
        self.regularization().backward()
        cooperation = float((coefficients > 0).float().mean())
        self.last_cooperation = cooperation
        if self.config.updater:
            self.update_accumulators(cooperation)
        return [loss.item() for loss in losses]

    @torch.no_grad()
    def update_accumulators(self, cooperation: float) -> None:
        rho = self.config.updater_momentum
        target = torch.tensor([1.0 - cooperation, cooperation], device=self.accumulators.device)
        self.accumulators.mul_(rho).add_((1 - rho) * target)
