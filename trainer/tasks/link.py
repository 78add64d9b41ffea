"""Link prediction as an auxiliary task: BPR (Rendle et al., UAI 2009) over a relation's links,

    -log sigmoid(a . p - a . n),

where (a, p) are rows of one table that the relation links (a user and a user they trust, an
item and an item viewed with it or sharing its category) and n is a row of the same table
drawn uniformly among the rows not linked to a. This is how PMTRec's auxiliary tasks on
Epinions (social links, same category) and Video Game (co-view, co-buy) score a link (Yang et
al., IEEE BigData 2024); each step draws as many links as the step has training positives, or
``ratio`` times as many (at least one).
"""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F

from trainer.data.relations import Table
from trainer.tasks.base import Task, TaskBatch


class LinkTask(Task):
    """A relation's links on the user or item table, scored BPR-style; subclasses draw them."""

    def __init__(self, name: str, table: Table, ratio: float = 1.0):
        self.name = name
        self.table = table
        self.ratio = ratio

    @abstractmethod
    def draw(
        self, count: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(anchor, linked row, unlinked row) for ``count`` examples."""

    def sample(self, positive_index: torch.Tensor, generator: torch.Generator) -> TaskBatch:
        count = max(1, round(len(positive_index) * self.ratio))
        anchor, positive, negative = self.draw(count, generator)
        rows = {"anchor": anchor, "positive": positive, "negative": negative}
        return TaskBatch(users=rows) if self.table == "user" else TaskBatch(items=rows)

    def loss(self, users: torch.Tensor, items: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        vectors, rows = (users, batch.users) if self.table == "user" else (items, batch.items)
        anchor = vectors[rows["anchor"]]
        positive = (anchor * vectors[rows["positive"]]).sum(dim=1)
        negative = (anchor * vectors[rows["negative"]]).sum(dim=1)
        return -F.logsigmoid(positive - negative).mean()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, table={self.table!r}, ratio={self.ratio})"
        )
