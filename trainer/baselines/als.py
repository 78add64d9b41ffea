"""Alternating least squares for implicit feedback (Hu, Koren and Volinsky, ICDM 2008),
through the ``implicit`` library (a maintained, fast implementation; CPU here, its CUDA
solver where present).

Every sweep is scored on validation with the product's own evaluator and the best sweep's
factors are kept, as the trainer keeps the best epoch. The factors serve like any embedding
model: users and items through the FAISS index, cold start through the mean of item factors.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from trainer.baselines.config import BaselineConfig, BaselineResult
from trainer.baselines.interactions import interaction_matrix
from trainer.data import RecDataset
from trainer.evaluation import RankingEvaluator
from trainer.training import ConfigError, resolve_device

log = logging.getLogger(__name__)


def _build_model(config: BaselineConfig, use_gpu: bool):
    try:
        from implicit.als import AlternatingLeastSquares
    except ImportError as error:  # the trainer extra brings it
        raise ConfigError(
            f"--method als needs the 'implicit' package (pip install -e '.[trainer]'): {error}"
        ) from error
    return AlternatingLeastSquares(
        factors=config.dim,
        regularization=config.reg,
        alpha=config.confidence,
        iterations=config.iterations,
        random_state=config.seed,
        # The process's torch thread count, which OMP_NUM_THREADS sets (1 on shared cores).
        num_threads=torch.get_num_threads(),
        use_gpu=use_gpu,
    )


def _as_numpy(factors) -> np.ndarray:
    """implicit keeps GPU factors in its own matrix type; CPU ones are numpy already."""
    array = factors.to_numpy() if hasattr(factors, "to_numpy") else factors
    return np.array(array, dtype=np.float32)


def fit_als(
    dataset: RecDataset, config: BaselineConfig, monitor: RankingEvaluator
) -> BaselineResult:
    """Fit ALS on the training interactions, keeping the sweep best on ``monitor``."""
    # implicit parallelises its own solver: a BLAS thread pool under it only oversubscribes
    # the cores (implicit checks for that when the model is built, and warns), so BLAS runs
    # single-threaded for the whole fit.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_als(dataset, config, monitor)


def _fit_als(
    dataset: RecDataset, config: BaselineConfig, monitor: RankingEvaluator
) -> BaselineResult:
    device = resolve_device(config.device)
    use_gpu = device.type == "cuda"
    if use_gpu:
        import implicit.gpu

        use_gpu = implicit.gpu.HAS_CUDA
        if not use_gpu:
            log.warning("implicit was built without CUDA: ALS runs on the CPU")
    model = _build_model(config, use_gpu)
    history: list[float] = []
    best: dict[str, object] = {}

    def after_sweep(iteration: int, _elapsed: float, _loss: float | None) -> None:
        users, items = _as_numpy(model.user_factors), _as_numpy(model.item_factors)
        metrics = monitor.evaluate(torch.from_numpy(users), torch.from_numpy(items))
        history.append(metrics[config.monitor])
        improved = not best or history[-1] > best["value"]
        if improved:
            best.update(value=history[-1], sweep=iteration + 1, users=users, items=items)
        log.info(
            "als sweep %2d | val recall@20 %.4f ndcg@20 %.4f%s",
            iteration + 1,
            metrics["recall@20"],
            metrics["ndcg@20"],
            " *" if improved else "",
        )

    started = time.perf_counter()
    model.fit(interaction_matrix(dataset, config.inputs), show_progress=False, callback=after_sweep)
    seconds = time.perf_counter() - started
    users, items = best["users"], best["items"]
    return BaselineResult(
        config=config,
        user_vectors=users,
        item_vectors=items,
        fold_in_vectors=items,
        val_metrics={},
        best_iteration=int(best["sweep"]),
        history=history,
        seconds=seconds,
        device="cuda" if use_gpu else "cpu",
        details={"implicit_backend": "gpu" if use_gpu else "cpu"},
    )
