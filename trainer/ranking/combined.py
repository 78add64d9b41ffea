"""The combiner seam for rankers: the tasks' gradients of a ranker's shared parameters go
through a gradient combiner (trainer/combiners: EW, PCGrad, CAGrad, Nash-MTL, PMTRec, ...),
as the retrieval trainer does with its embedding tables.

Shared parameters: the rows of the feature-embedding table a batch touches (one row per
(feature, value); the blocks' first, row-wise part, so PMTRec weighs the tasks per row), the
numeric features' vectors, and the ranker's ``shared_modules`` (shared bottom or shared
experts), each tensor one row of its own block as in the retrieval trainer. Task-specific
parameters (gates, towers) get the plain sum of the losses, which for them is their own
task's gradient. The embedding L2 term is added to the combined gradient.

In a data-parallel run (``ranks``, trainer/ranking/distributed.py) the batch is this rank's
slice: its losses weigh by the slice's share of the batch, and every gradient is summed over
the ranks before the combination (each task's rows over the union of the rows any rank
touched), so the combination sees the whole batch's per-task gradients."""

from __future__ import annotations

import torch

from trainer.combiners import GradientCombiner
from trainer.ranking.models import Ranker


def combined_backward(
    model: Ranker,
    combiner: GradientCombiner,
    categorical: torch.Tensor,
    numeric: torch.Tensor,
    labels: torch.Tensor,
    epoch: int,
    ranks=None,
) -> list[float]:
    """Fill ``.grad`` of every parameter of ``model`` for one batch; return the task losses."""
    embedding = model.embedding
    rows = embedding.rows(categorical)
    unique_rows, inverse = torch.unique(rows, return_inverse=True)
    row_vectors = embedding.table[unique_rows]
    embedded = embedding.combine(row_vectors[inverse], numeric)
    losses = model.task_losses(model.head(embedded, categorical), labels)
    values = [loss.item() for loss in losses]
    if ranks is not None:
        losses = ranks.weigh(losses)
    if not combiner.needs_task_gradients:
        weights = combiner.loss_weights(len(losses))
        weighted = sum(w * loss for w, loss in zip(weights, losses))
        if ranks is None:
            (weighted + model.regularization()).backward()
        else:
            ranks.sum_backward(model, weighted)
        return values

    shared_ids = {id(p) for module in model.shared_modules() for p in module.parameters()}
    dense = [embedding.numeric_vectors] + [
        p for p in model.parameters() if id(p) in shared_ids and p.requires_grad
    ]
    wrt = [row_vectors, *dense]
    per_task = [
        torch.autograd.grad(loss, wrt, retain_graph=True, allow_unused=True, materialize_grads=True)
        for loss in losses
    ]
    blocks = [torch.stack([grads[0] for grads in per_task])]
    blocks += [
        torch.stack([grads[1 + j].reshape(1, -1) for grads in per_task]) for j in range(len(dense))
    ]
    if ranks is not None:
        unique_rows, blocks = ranks.reducer.reduce(unique_rows, blocks)
    combined_rows, *combined_dense = combiner.combine_blocks(blocks, epoch)

    # Task-specific parameters: the summed loss (shared ones are overwritten below).
    specific = [
        p
        for p in model.parameters()
        if id(p) not in shared_ids
        and p is not embedding.table
        and p is not embedding.numeric_vectors
    ]
    if specific:
        grads = torch.autograd.grad(
            sum(losses), specific, allow_unused=True, materialize_grads=True
        )
        if ranks is not None:
            grads = ranks.reducer.sum_tensors(list(grads))
        for param, grad in zip(specific, grads):
            param.grad = grad
    table_grad = torch.zeros_like(embedding.table)
    table_grad.index_copy_(0, unique_rows, combined_rows)
    embedding.table.grad = table_grad
    for param, grad in zip(dense, combined_dense):
        param.grad = grad.reshape(param.shape)
    model.regularization().backward()
    return values
