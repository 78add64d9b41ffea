"""Two-stage recommendation on multi-behavior data: the retrieval model's top N items per
user, re-ranked by a multi-task ranker's target-behavior probability.

    python -m trainer.twostage --dataset tmall                 # the docs/results.md table
    python -m trainer.twostage --dataset beibei --rankers mmoe --seeds 0

Protocol (docs/ranking.md, "Two stages"):

- **Retrieval**: each method of ``--retrieval`` (default bpr, ew, pmtrec) trains with its
  default configuration and the seed, early-stopped on the validation buys (Recall@20).
- **Ranker**: each architecture of ``--rankers`` (default mmoe, stem, drgrad) trains on the
  behavior samples of trainer/ranking/pairs.py (user id and item id; one label per
  behavior; ``negative_ratio`` sampled negatives per positive), early-stopped on the
  validation samples' target AUC. It does not read the retrieval model, so one ranker is
  evaluated on the candidates of every retrieval method of its seed.
- **Evaluation**: for every user with a held-out buy, the retrieval model ranks the whole
  catalogue, the user's training buys excluded; retrieval alone is its top 10; two-stage
  re-orders its top N (``--ns``, 100 and 200) by the ranker's buy probability and takes the
  top 10. HitRate@10 and NDCG@10 (one held-out buy per user).
- **Selection, on validation only**: the negative ratio of each architecture is chosen among
  ``--ratios`` on seed 0's validation NDCG@10 (two-stage over the best retrieval method on
  validation, N = 100); the other seeds train with it. Every architecture gets the same grid.

Every run is appended to ``--log`` as it ends (one JSON line) and a rerun skips recorded
runs; trained retrieval vectors are kept under ``--work`` so that rankers of a later run are
scored on the same candidates. Bad input exits with status 2 and one ``error:`` line.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared.bundle import RankerSpec
from shared.components import RANKER_STAGE
from shared.metrics import metric_sums
from shared.registry import problems
from trainer.data import RecDataset
from trainer.evaluation import RankingEvaluator
from trainer.ranking.models import Ranker, RankerConfig
from trainer.ranking.pairs import (
    OTHER_BEHAVIORS,
    BehaviorHistory,
    BehaviorPairs,
    build_behavior_samples,
    pairs_array,
)
from trainer.ranking.samples import RankingDataset
from trainer.ranking.training import RankResult, RankTrainConfig, RankTrainer

log = logging.getLogger("trainer.twostage")

TWO_STAGE_RANKERS = ("mmoe", "stem", "drgrad")
RETRIEVAL_METHODS = ("bpr", "ew", "pmtrec")
CANDIDATES = (100, 200)
TWO_STAGE_KS = (10,)
# The ranker reads two id features only: wider embeddings than Census-Income's 4.
DEFAULT_RANKER_OPTIONS: dict[str, Any] = {"dim": 16}
# The target behavior's name on a dataset that names no behaviors.
DEFAULT_TARGET = "buy"


def behavior_pairs(
    dataset: RecDataset,
    target: str = DEFAULT_TARGET,
    auxiliary: dict[str, np.ndarray] | None = None,
) -> BehaviorPairs:
    """The multi-behavior view of ``dataset``: its training positives are the ``target``
    behavior's training pairs, its validation and test positives the held-out target pairs;
    ``auxiliary`` maps every other behavior to its [n, 2] (user row, item row) pairs."""
    train = dataset.positives("train")
    pairs = {target: pairs_array(train.users, train.items)}
    for name, values in (auxiliary or {}).items():
        values = np.asarray(values, dtype=np.int64).reshape(-1, 2)
        pairs[name] = pairs_array(values[:, 0], values[:, 1])
    held = {s: dataset.positives(s) for s in ("val", "test")}
    return BehaviorPairs(
        name=dataset.name,
        user_ids=dataset.user_ids,
        item_ids=dataset.item_ids,
        target=target,
        train=pairs,
        val=np.stack([held["val"].users, held["val"].items], axis=1).astype(np.int64),
        test=np.stack([held["test"].users, held["test"].items], axis=1).astype(np.int64),
    )


def multi_behavior(dataset: RecDataset) -> BehaviorPairs:
    """The behaviors of a loaded dataset: its splits' positives are the target behavior
    (``dataset.target_behavior``, "buy" when the dataset names none), ``dataset.behaviors``
    the training pairs of every other behavior."""
    return behavior_pairs(
        dataset,
        dataset.target_behavior or DEFAULT_TARGET,
        {
            name: np.stack([pairs.users, pairs.items], axis=1)
            for name, pairs in dataset.behaviors.items()
        },
    )


# The stage's settings as declared (shared/components.py): defaults and valid values.
_STAGE = {param.name: param for param in RANKER_STAGE}


@dataclass(frozen=True)
class RankerStage:
    """How the ranking stage is trained: the architecture, the negative ratio of its
    samples, the optimiser's settings and the architecture options (RankerConfig fields)."""

    model: str = "mmoe"
    negative_ratio: int = _STAGE["negative_ratio"].default
    lr: float = _STAGE["lr"].default
    batch_size: int = _STAGE["batch_size"].default
    epochs: int = _STAGE["epochs"].default
    patience: int = _STAGE["patience"].default
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    # What a training pair of one behavior says about the others (pairs.OTHER_BEHAVIORS).
    other_behaviors: str = _STAGE["other_behaviors"].default
    # The user's other behaviors on the item as features (pairs.py, "History features").
    history: bool = _STAGE["history"].default

    def __post_init__(self) -> None:
        refused = problems(asdict(self), _STAGE.values())
        if refused:
            raise ValueError("; ".join(refused))

    def train_config(self) -> RankTrainConfig:
        ranker = RankerConfig.from_dict({**DEFAULT_RANKER_OPTIONS, **self.options})
        return RankTrainConfig(
            model=self.model,
            lr=self.lr,
            batch_size=self.batch_size,
            epochs=self.epochs,
            patience=self.patience,
            seed=self.seed,
            ranker=ranker,
            monitor="first_auc",
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields; ``other_behaviors`` and ``history`` only when they differ from what
        every run did before they existed (negative, no history), so those records keep
        their keys."""
        values = asdict(self)
        if values["other_behaviors"] == "negative":
            del values["other_behaviors"]
        if not values["history"]:
            del values["history"]
        return values


def train_ranker(
    data: BehaviorPairs, stage: RankerStage, progress: bool = False
) -> tuple[RankResult, RankingDataset]:
    """Build the behavior samples and train the ranker on them (ValueError for bad
    settings: unknown architecture or option, a ratio below 1)."""
    config = stage.train_config()
    samples = build_behavior_samples(
        data, stage.negative_ratio, stage.seed, stage.other_behaviors, stage.history
    )
    log.info("ranker %s samples: %s", stage.model, samples.stats())
    result = RankTrainer(samples, config, progress=progress).fit()
    log.info(
        "ranker %s: best epoch %d, validation %s",
        stage.model,
        result.best_epoch,
        {k: round(v, 4) for k, v in result.val_metrics.items() if k.endswith("auc")},
    )
    return result, samples


def ranker_spec(
    result: RankResult,
    samples: RankingDataset,
    stage: RankerStage,
    metrics: dict[str, Any],
    history: BehaviorHistory | None = None,
    num_users: int = 0,
) -> RankerSpec:
    """The ranking stage of a two-stage bundle (shared.bundle.RankerSpec): the ranker's ONNX
    graph over (user row + 1, item row + 1), one ``p_<behavior>`` output per behavior, the
    target weighted 1 and the other behaviors 0 by default."""
    from trainer.ranking.export import ranker_onnx

    tasks = list(samples.schema.tasks)
    return RankerSpec(
        onnx=ranker_onnx(result.model),
        model=stage.model,
        objectives=tasks,
        target=tasks[0],
        outputs={task: f"p_{task}" for task in tasks},
        metrics=metrics,
        history=history.csr(num_users) if history is not None else {},
        hyperparameters={
            **stage.to_dict(),
            "ranker": result.config.ranker.to_dict(),
            "best_epoch": result.best_epoch,
        },
    )


def target_probabilities(
    model: Ranker,
    users: np.ndarray,
    items: np.ndarray,
    batch_size: int = 65536,
    history: BehaviorHistory | None = None,
) -> np.ndarray:
    """The ranker's target (first task) probability of each (user row, item row); a ranker
    trained with history features reads them from ``history``."""
    categorical = torch.from_numpy(np.stack([users + 1, items + 1], axis=1).astype(np.int64))
    if model.schema.numeric:
        if history is None or history.feature_names != tuple(model.schema.numeric):
            raise ValueError(f"the ranker reads {model.schema.numeric}: pass their history")
        numeric = torch.from_numpy(history.features(users, items))
    else:
        numeric = torch.zeros(len(categorical), 0)
    return model.predict(categorical, numeric, batch_size=batch_size)[:, 0].numpy()


def rerank(
    model: Ranker,
    users: np.ndarray,
    candidates: np.ndarray,
    history: BehaviorHistory | None = None,
) -> np.ndarray:
    """``candidates`` [users, N] (item rows) re-ordered per row by the ranker's target
    probability, highest first (ties keep the retrieval order)."""
    if candidates.size == 0:
        return candidates
    return _by_score(candidates, candidate_scores(model, users, candidates, history))


def candidate_scores(
    model: Ranker,
    users: np.ndarray,
    candidates: np.ndarray,
    history: BehaviorHistory | None = None,
) -> np.ndarray:
    """The ranker's target probability of every candidate, [users, N]."""
    flat_users = np.repeat(np.asarray(users, np.int64), candidates.shape[1])
    scores = target_probabilities(model, flat_users, candidates.reshape(-1), history=history)
    return scores.reshape(candidates.shape)


def _by_score(candidates: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``candidates`` re-ordered per row by ``scores``, highest first, ties kept in order."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def _hits(evaluator: RankingEvaluator, ranked: np.ndarray) -> np.ndarray:
    keys = evaluator.held_out_keys.numpy()
    query = evaluator.users.numpy()[:, None] * evaluator.num_items + ranked
    found = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[found] == query


def _means(hits: np.ndarray, evaluator: RankingEvaluator, ks: tuple[int, ...]) -> dict:
    width = max(ks)
    if hits.shape[1] < width:
        hits = np.pad(hits, ((0, 0), (0, width - hits.shape[1])))
    sums = metric_sums(hits[:, :width], evaluator.num_relevant, ks)
    return {key: value / len(evaluator.users) for key, value in sums.items()}


def two_stage_metrics(
    dataset: RecDataset,
    split: str,
    user_vectors: torch.Tensor,
    item_vectors: torch.Tensor,
    rankers: dict[str, Ranker],
    ns: tuple[int, ...] = CANDIDATES,
    ks: tuple[int, ...] = TWO_STAGE_KS,
    history: BehaviorHistory | None = None,
) -> dict[str, float]:
    """HitRate/NDCG at ``ks`` on ``split``'s held-out positives of the retrieval model alone
    (``retrieval:hit@10``) and re-ranked over its top N by each ranker
    (``<ranker>@<N>:hit@10``); the user's training positives are never candidates."""
    evaluator = RankingEvaluator(
        dataset.positives(split), *dataset.positive_csr(), dataset.num_items, ks=ks
    )
    candidates = evaluator.top_items(user_vectors, item_vectors, max(ns)).numpy()
    users = evaluator.users.numpy()
    metrics = {
        f"retrieval:{k}": v for k, v in _means(_hits(evaluator, candidates), evaluator, ks).items()
    }
    for name, model in rankers.items():
        # One scoring of the top max(N); each N re-orders the first N of those scores
        # (the same order ``rerank`` gives on the first N alone, ties included).
        scores = candidate_scores(model, users, candidates, history)
        for n in ns:
            ranked = _by_score(candidates[:, :n], scores[:, :n])
            values = _means(_hits(evaluator, ranked), evaluator, ks)
            metrics.update({f"{name}@{n}:{k}": v for k, v in values.items()})
    return metrics


def fit_ranker_stage(
    dataset: RecDataset,
    user_vectors: torch.Tensor,
    item_vectors: torch.Tensor,
    stage: RankerStage,
    progress: bool = False,
) -> RankerSpec:
    """Train the ranking stage on ``dataset``'s behaviors and return it as the bundle's
    ``RankerSpec``; its metrics are the ranker's AUC / gAUC per behavior and the two-stage
    HitRate/NDCG@10 over the given retrieval vectors' top N, on validation and test."""
    data = multi_behavior(dataset)
    result, samples = train_ranker(data, stage, progress)
    history = BehaviorHistory.of(data) if stage.history else None
    metrics = {}
    for split, ranker_metrics in (("val", result.val_metrics), ("test", result.test_metrics)):
        two_stage = two_stage_metrics(
            dataset,
            split,
            user_vectors,
            item_vectors,
            {stage.model: result.model},
            history=history,
        )
        metrics[split] = {
            **{f"ranker:{k}": float(v) for k, v in ranker_metrics.items()},
            **two_stage,
        }
    return ranker_spec(result, samples, stage, metrics, history, data.num_users)


def two_stage_table(spec: RankerSpec) -> str:
    """The ranking stage's metrics as printed by ``python -m trainer.fit --ranker``."""
    names = [k for k in spec.metrics["val"] if k.endswith(("@10", "auc"))]
    lines = [f"{'metric':<28}{'val':>10}{'test':>10}"]
    for name in names:
        val, test = spec.metrics["val"][name], spec.metrics["test"].get(name, float("nan"))
        lines.append(f"{name:<28}{val:>10.4f}{test:>10.4f}")
    return "\n".join(lines)


def train_retrieval(
    dataset: RecDataset, dataset_name: str, method: str, seed: int, progress: bool = False
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """Train the retrieval method with its default configuration for ``dataset_name`` and
    ``seed``: (user vectors, item vectors, a summary of the run)."""
    from dataclasses import replace

    from trainer.defaults import default_config
    from trainer.training import Trainer

    config = replace(default_config(dataset_name, method), seed=seed)
    result = Trainer(dataset, config, progress=progress).fit()
    users, items = (t.detach().cpu() for t in result.encoder.final_vectors())
    summary = {
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "seconds": round(result.seconds, 1),
        "hyperparameters": config.hyperparameters(),
    }
    return users, items, summary


class RunLog:
    """The JSON-lines file of finished runs, by key."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self.records[record["key"]] = record

    @staticmethod
    def key(**fields: Any) -> str:
        return json.dumps(fields, sort_keys=True)

    def get(self, **fields: Any) -> dict[str, Any] | None:
        return self.records.get(self.key(**fields))

    def add(self, record: dict[str, Any], **fields: Any) -> dict[str, Any]:
        record = {"key": self.key(**fields), **record}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        self.records[record["key"]] = record
        return record


class TwoStageExperiment:
    """The runs of one dataset's two-stage table (the protocol of this module's docstring)."""

    def __init__(self, dataset: RecDataset, data: BehaviorPairs, args: argparse.Namespace):
        self.dataset = dataset
        self.data = data
        self.args = args
        self.runs = RunLog(args.log)
        self.work = Path(args.work)
        self.vectors: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def _retrieval_key(self, method: str, seed: int) -> dict[str, Any]:
        epochs = {"epochs": self.args.retrieval_epochs} if self.args.retrieval_epochs else {}
        return {
            "dataset": self.args.dataset,
            "kind": "retrieval",
            "method": method,
            "seed": seed,
            **epochs,
        }

    def retrieval(self, method: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The method's vectors for ``seed``: cached under ``--work`` or trained (and the
        retrieval-only metrics recorded)."""
        if (method, seed) in self.vectors:
            return self.vectors[(method, seed)]
        key = self._retrieval_key(method, seed)
        cache = self.work / f"{self.args.dataset}-{method}-seed{seed}.npz"
        if cache.is_file() and self.runs.get(**key) is not None:
            with np.load(cache) as saved:
                vectors = torch.from_numpy(saved["users"]), torch.from_numpy(saved["items"])
        else:
            log.info("retrieval %s seed %d: training", method, seed)
            users, items, summary = train_retrieval(
                self._retrieval_dataset(), self.args.dataset, method, seed, self.args.progress
            )
            vectors = users, items
            self.work.mkdir(parents=True, exist_ok=True)
            np.savez(cache, users=users.numpy(), items=items.numpy())
            if self.runs.get(**key) is None:
                metrics = {
                    split: two_stage_metrics(self.dataset, split, users, items, {}, (10,))
                    for split in ("val", "test")
                }
                self.runs.add({**summary, **metrics}, **key)
        self.vectors[(method, seed)] = vectors
        return vectors

    def _retrieval_dataset(self) -> RecDataset:
        return self.dataset

    def ranker_run(self, model: str, ratio: int, seed: int) -> dict[str, Any]:
        stage = RankerStage(
            model=model,
            negative_ratio=ratio,
            epochs=self.args.epochs,
            seed=seed,
            batch_size=self.args.batch_size,
            lr=self.args.lr,
            options=dict(self.args.ranker_options),
            other_behaviors=self.args.other_behaviors,
            history=self.args.history,
        )
        key = {"dataset": self.args.dataset, "kind": "ranker", **stage.to_dict()}
        done = self.runs.get(**key)
        if done is not None:
            return done
        vectors = {m: self.retrieval(m, seed) for m in self.args.retrieval}
        log.info("ranker %s ratio %d seed %d: training", model, ratio, seed)
        result, samples = train_ranker(self.data, stage, self.args.progress)
        record: dict[str, Any] = {
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "seconds_per_epoch": round(result.seconds_per_epoch, 2),
            "train_samples": len(samples.train),
            "ranker_val": result.val_metrics,
            "ranker_test": result.test_metrics,
        }
        history = BehaviorHistory.of(self.data) if stage.history else None
        for split in ("val", "test"):
            record[split] = {
                method: two_stage_metrics(
                    self.dataset,
                    split,
                    users,
                    items,
                    {model: result.model},
                    self.args.ns,
                    history=history,
                )
                for method, (users, items) in vectors.items()
            }
        return self.runs.add(record, **key)

    def best_retrieval(self) -> str:
        """The retrieval method with the best mean validation NDCG@10 over the seeds."""

        def score(method: str) -> float:
            values = [
                self.runs.get(**self._retrieval_key(method, s))["val"]["retrieval:ndcg@10"]
                for s in self.args.seeds
            ]
            return float(np.mean(values))

        return max(self.args.retrieval, key=score)

    def run(self) -> str:
        args = self.args
        for seed in args.seeds:
            for method in args.retrieval:
                self.retrieval(method, seed)
        chosen = self.best_retrieval()
        first, n = args.seeds[0], min(args.ns)
        picked: dict[str, int] = {}
        for model in args.rankers:
            scores = {
                ratio: self.ranker_run(model, ratio, first)["val"][chosen][f"{model}@{n}:ndcg@10"]
                for ratio in args.ratios
            }
            picked[model] = max(scores, key=lambda r: scores[r])
            log.info("%s: validation NDCG@10 by ratio %s; picked %d", model, scores, picked[model])
        for seed in args.seeds[1:]:
            for model in args.rankers:
                self.ranker_run(model, picked[model], seed)
        return self.table(chosen, picked)

    def table(self, chosen: str, picked: dict[str, int]) -> str:
        args = self.args
        lines = [
            f"{args.dataset}: test HitRate@10 / NDCG@10, mean ± std over seeds "
            f"{', '.join(map(str, args.seeds))} (validation NDCG@10 beside); best retrieval "
            f"on validation: {chosen}",
            "",
            "| configuration | HR@10 | NDCG@10 | val NDCG@10 |",
            "|---|---|---|---|",
        ]

        def cell(values: list[float]) -> str:
            return f"{np.mean(values):.4f} ± {np.std(values):.4f}"

        for method in args.retrieval:
            rows = [self.runs.get(**self._retrieval_key(method, s)) for s in args.seeds]
            lines.append(
                f"| {method} (retrieval only) | "
                + " | ".join(
                    cell([r[split][f"retrieval:{m}@10"] for r in rows])
                    for split, m in (("test", "hit"), ("test", "ndcg"), ("val", "ndcg"))
                )
                + " |"
            )
        for method in args.retrieval:
            for model in args.rankers:
                rows = [self.ranker_run(model, picked[model], s) for s in args.seeds]
                for n in args.ns:
                    name = f"{model}@{n}"
                    lines.append(
                        f"| {method} top {n} -> {model} (ratio {picked[model]}) | "
                        + " | ".join(
                            cell([r[split][method][f"{name}:{m}@10"] for r in rows])
                            for split, m in (("test", "hit"), ("test", "ndcg"), ("val", "ndcg"))
                        )
                        + " |"
                    )
        return "\n".join(lines)


def _int_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got '{text}'"
        ) from None
    return values


def _options(text: str) -> dict[str, Any]:
    try:
        values = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"expected a JSON object: {error}") from None
    if not isinstance(values, dict):
        raise argparse.ArgumentTypeError("expected a JSON object of ranker options")
    try:
        RankerConfig.from_dict({**DEFAULT_RANKER_OPTIONS, **values})
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return values


def _name_list(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.twostage",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", required=True, help="a multi-behavior dataset (tmall, ...)")
    parser.add_argument("--retrieval", type=_name_list, default=RETRIEVAL_METHODS)
    parser.add_argument("--rankers", type=_name_list, default=TWO_STAGE_RANKERS)
    parser.add_argument("--seeds", type=_int_list, default=(0, 1, 2))
    parser.add_argument("--ratios", type=_int_list, default=(1, 3))
    parser.add_argument("--ns", type=_int_list, default=CANDIDATES)
    parser.add_argument("--epochs", type=int, default=20, help="ranker epochs (maximum)")
    parser.add_argument("--batch-size", type=int, default=2048, help="ranker batch size")
    parser.add_argument("--lr", type=float, default=1e-3, help="ranker learning rate")
    parser.add_argument("--retrieval-epochs", type=int, help="retrieval epochs (maximum)")
    parser.add_argument(
        "--other-behaviors",
        choices=OTHER_BEHAVIORS,
        default=_STAGE["other_behaviors"].default,
        help=_STAGE["other_behaviors"].help,
    )
    parser.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=_STAGE["history"].default,
        help=_STAGE["history"].help,
    )
    parser.add_argument(
        "--ranker-options",
        type=_options,
        default={},
        help="ranker options (RankerConfig fields) as JSON, e.g. '{\"interaction\": true}'",
    )
    parser.add_argument("--log", type=Path, default=Path("docs/ranking/twostage-runs.jsonl"))
    parser.add_argument("--work", type=Path, default=Path("runs/twostage"))
    parser.add_argument("--data-dir", type=Path, help="default: $PMTREC_DATA_DIR")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    return parser


def _check(args: argparse.Namespace) -> None:
    from trainer.names import METHOD_NAMES
    from trainer.ranking.models import RANKERS

    for name in args.rankers:
        if name not in RANKERS:
            raise ValueError(f"unknown ranker '{name}'; valid names: {', '.join(RANKERS)}")
    for name in args.retrieval:
        if name not in METHOD_NAMES:
            raise ValueError(
                f"unknown retrieval method '{name}'; valid names: {', '.join(METHOD_NAMES)}"
            )
    if not args.rankers or not args.retrieval or not args.seeds:
        raise ValueError("--rankers, --retrieval and --seeds need at least one value")
    if any(r < 1 for r in args.ratios) or any(n < 10 for n in args.ns):
        raise ValueError("negative ratios must be >= 1 and candidate counts >= 10")
    if args.epochs < 1 or args.batch_size < 1 or args.lr <= 0:
        raise ValueError("--epochs, --batch-size and --lr must be positive")


def main(argv: list[str] | None = None) -> int:
    from shared.settings import get_settings
    from trainer.data import DatasetError, load_dataset

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    settings = get_settings()
    try:
        _check(args)
        dataset = load_dataset(args.dataset, args.data_dir or settings.data_dir, False)
        data = multi_behavior(dataset)
    except (DatasetError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(TwoStageExperiment(dataset, data, args).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
