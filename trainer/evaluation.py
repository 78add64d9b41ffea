"""Full-ranking evaluation: every user with held-out items ranks the whole catalogue.

Protocol (the one of the paper's code lineage): a user's training positives are removed from
the ranking; every other item, including those of the other held-out split, competes. Metrics
are averaged over users with at least one held-out positive. Users are scored in batches sized
so that a batch's score matrix stays under ``max_scores`` floats, which bounds memory for
catalogues of hundreds of thousands of items.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from shared.metrics import DEFAULT_KS, metric_sums
from trainer.data import Interactions


class RankingEvaluator:
    def __init__(
        self,
        held_out: Interactions,
        exclude_indptr: np.ndarray,
        exclude_indices: np.ndarray,
        num_items: int,
        ks: tuple[int, ...] = DEFAULT_KS,
        max_scores: int = 1 << 24,
    ):
        if any(k <= 0 for k in ks):
            raise ValueError(f"every k must be positive, got {ks}")
        self.num_items = num_items
        self.ks = tuple(sorted(ks))
        self.max_scores = max_scores
        keys = np.unique(held_out.users.astype(np.int64) * num_items + held_out.items)
        self.held_out_keys = torch.from_numpy(keys)
        users, counts = np.unique(keys // num_items, return_counts=True)
        self.users = torch.from_numpy(users)
        self.num_relevant = counts
        self.exclude_indptr = torch.from_numpy(np.asarray(exclude_indptr, dtype=np.int64))
        self.exclude_indices = torch.from_numpy(np.asarray(exclude_indices, dtype=np.int64))

    def sample(self, count: int, seed: int) -> RankingEvaluator:
        """The same evaluation restricted to ``count`` users drawn at random (all if fewer)."""
        if count >= len(self.users):
            return self
        generator = torch.Generator().manual_seed(seed)
        chosen = torch.randperm(len(self.users), generator=generator)[:count].sort().values
        sampled = copy.copy(self)
        sampled.users = self.users[chosen]
        sampled.num_relevant = self.num_relevant[chosen.numpy()]
        return sampled

    def _excluded(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(batch position, item) of every excluded pair of the given users."""
        starts, ends = self.exclude_indptr[users], self.exclude_indptr[users + 1]
        lengths = ends - starts
        positions = torch.repeat_interleave(torch.arange(len(users)), lengths)
        offsets = torch.arange(int(lengths.sum())) - torch.repeat_interleave(
            torch.cumsum(lengths, 0) - lengths, lengths
        )
        return positions, self.exclude_indices[starts[positions] + offsets]

    @torch.no_grad()
    def top_items(
        self, user_vectors: torch.Tensor, item_vectors: torch.Tensor, n: int
    ) -> torch.Tensor:
        """The ``n`` best-scored items of every evaluated user (``self.users`` order), the
        excluded items removed: int64 [users, min(n, num_items)] on the CPU, best first (the
        candidates a second stage re-ranks)."""
        device = item_vectors.device
        top = min(n, self.num_items)
        batch = max(1, self.max_scores // max(1, self.num_items))
        parts = []
        for start in range(0, len(self.users), batch):
            users = self.users[start : start + batch]
            scores = user_vectors[users.to(device)] @ item_vectors.T
            positions, items = self._excluded(users)
            scores[positions.to(device), items.to(device)] = -torch.inf
            parts.append(torch.topk(scores, top, dim=1).indices.cpu())
        return torch.cat(parts) if parts else torch.empty(0, top, dtype=torch.long)

    @torch.no_grad()
    def evaluate(self, user_vectors: torch.Tensor, item_vectors: torch.Tensor) -> dict[str, float]:
        """Mean Recall/NDCG/HitRate at every k over the evaluated users."""
        device = item_vectors.device
        top = min(max(self.ks), self.num_items)
        batch = max(1, self.max_scores // max(1, self.num_items))
        keys = self.held_out_keys.to(device)
        totals: dict[str, float] = {}
        for start in range(0, len(self.users), batch):
            users = self.users[start : start + batch]
            scores = user_vectors[users.to(device)] @ item_vectors.T
            positions, items = self._excluded(users)
            scores[positions.to(device), items.to(device)] = -torch.inf
            ranked = torch.topk(scores, top, dim=1).indices
            query = users.to(device)[:, None] * self.num_items + ranked
            found = torch.searchsorted(keys, query).clamp(max=len(keys) - 1)
            hits = (keys[found] == query).cpu().numpy()
            if top < max(self.ks):  # tiny catalogue: positions past its end are misses
                hits = np.pad(hits, ((0, 0), (0, max(self.ks) - top)))
            relevant = self.num_relevant[start : start + batch]
            for key, value in metric_sums(hits, relevant, self.ks).items():
                totals[key] = totals.get(key, 0.0) + value
        return {key: value / len(self.users) for key, value in totals.items()}
