"""Ranking samples from multi-behavior interactions: (user, item) pairs with one label per
behavior (buy, cart, ...), for the ranking stage of a two-stage recommender.

- **Features**: the user and the item, as categorical features ``user`` and ``item`` whose
  row is the dataset row + 1 (row 0 is the unknown user or item). These are the rows the
  two-stage bundle's ``ranker.onnx`` reads (shared/bundle.py ``RankerSpec``), so a ranker
  trained on these samples is exported as is. ``user`` is the schema's user feature: gAUC
  groups by it and DRGrad's personalized gate reads its embedding.
- **History features** (``history=True``): one numeric feature ``history:<behavior>`` per
  behavior other than the target, 1 when the (user, item) pair is a training pair of that
  behavior (the user carted the item), else 0. Candidates of the two-stage recommender never
  include the user's training buys, but they do include carted items, and a fifth of Tmall's
  held-out buys (three fifths of Beibei's) are carted pairs: the retrieval model's top N
  re-ordered with the carted items first has 2.8 times its HitRate@10 on Tmall. On a training
  sample, the feature of a behavior equals that behavior's label, so that objective's
  probability says whether the user has done it (its AUC is trivially high); the target's
  head learns what the auxiliary behaviors on the item say about it. The bundle carries the
  pairs (``shared.bundle.RankerSpec.history``) so the service computes the same features.
- **Tasks**: the behaviors, the target first (the primary task, DRGrad's task 1).
- **Training samples**: every (user, item) pair of the training split of any behavior is a
  positive sample, labelled 1 for each behavior it has in training and 0 for the others (a
  pair carted but not bought is a cart 1, buy 0 sample). For each of them ``negative_ratio``
  negatives of the same user: items drawn uniformly from the catalogue among those the user
  has no training pair with, all labels 0. Drawn once, with the seed.
  With ``other_behaviors="unlabelled"`` such a pair carries no label (NaN, left out of the
  loss) for the behaviors it does not have: implicit data says the user carted the item, not
  that the user will not buy it (a fifth of Tmall's held-out buys are carted pairs), so only
  the sampled negatives are negatives of every behavior.
- **Validation / test samples** (early stopping, AUC and gAUC per behavior): the held-out
  target pairs of that split (the validation buys carved from the training buys; the test
  buys) are the positives: target label 1, every other behavior's label 1 when the pair is a
  training pair of that behavior. ``negative_ratio`` negatives per positive as above (never
  a training pair of the user, never the held-out item itself). Validation samples never
  read the test pairs, so selecting on them does not look at test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared.components import RANKER_STAGE
from trainer.ranking.samples import FeatureSchema, RankingDataset, Samples

HISTORY_PREFIX = "history:"
USER_FEATURE = "user"
ITEM_FEATURE = "item"
DEFAULT_NEGATIVE_RATIO = 3
# What a training pair of one behavior says about the others: "negative" (label 0) or
# "unlabelled" (NaN: no loss), see the module docstring; declared with the stage's settings.
OTHER_BEHAVIORS = tuple(next(p for p in RANKER_STAGE if p.name == "other_behaviors").choices or ())


@dataclass(frozen=True)
class BehaviorPairs:
    """Multi-behavior interactions as row pairs: ``train[behavior]`` int64 [n, 2] unique
    (user row, item row) training pairs per behavior, the target behavior among them;
    ``val`` and ``test`` the held-out target pairs."""

    name: str
    user_ids: list[str]
    item_ids: list[str]
    target: str
    train: dict[str, np.ndarray]
    val: np.ndarray
    test: np.ndarray
    stats_extra: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target not in self.train:
            raise ValueError(
                f"target behavior '{self.target}' has no training pairs; "
                f"behaviors: {', '.join(self.train)}"
            )

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    @property
    def behaviors(self) -> tuple[str, ...]:
        """The target first, then the other behaviors in their given order."""
        return (self.target, *(name for name in self.train if name != self.target))


def pairs_array(users: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Unique (user, item) rows, sorted, as int64 [n, 2]."""
    pairs = np.stack([np.asarray(users, np.int64), np.asarray(items, np.int64)], axis=1)
    return np.unique(pairs.reshape(-1, 2), axis=0)


def _keys(pairs: np.ndarray, num_items: int) -> np.ndarray:
    return np.unique(pairs[:, 0] * num_items + pairs[:, 1])


def _member(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    if len(keys) == 0:
        return np.zeros(len(query), dtype=bool)
    found = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[found] == query


def sample_negatives(
    users: np.ndarray,
    num_items: int,
    excluded_keys: np.ndarray,
    rng: np.random.Generator,
    max_rounds: int = 100,
) -> np.ndarray:
    """One item per entry of ``users``, uniform over the items whose key
    ``user * num_items + item`` is not in the sorted ``excluded_keys`` (redrawn until it is
    not). A user excluded from every item raises ``ValueError``."""
    users = np.asarray(users, dtype=np.int64)
    items = rng.integers(0, num_items, size=len(users))
    redraw = _member(excluded_keys, users * num_items + items)
    for _ in range(max_rounds):
        if not redraw.any():
            return items
        rows = np.flatnonzero(redraw)
        items[rows] = rng.integers(0, num_items, size=len(rows))
        redraw[rows] = _member(excluded_keys, users[rows] * num_items + items[rows])
    full = np.unique(users[redraw])
    raise ValueError(f"no negative item left for user rows {full[:5].tolist()}")


@dataclass(frozen=True)
class BehaviorHistory:
    """The training pairs of the behaviors a ranker reads as features (every behavior but
    the target), as sorted keys ``user row * num_items + item row``."""

    behaviors: tuple[str, ...]
    keys: tuple[np.ndarray, ...]
    num_items: int

    @classmethod
    def of(cls, data: BehaviorPairs) -> BehaviorHistory:
        names = tuple(name for name in data.behaviors if name != data.target)
        keys = tuple(_keys(data.train[name], data.num_items) for name in names)
        return cls(names, keys, data.num_items)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(HISTORY_PREFIX + name for name in self.behaviors)

    def features(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """float32 [n, behaviors]: 1 where (user row, item row) is a training pair."""
        query = np.asarray(users, np.int64) * self.num_items + np.asarray(items, np.int64)
        columns = [_member(keys, query) for keys in self.keys]
        if not columns:
            return np.zeros((len(query), 0), np.float32)
        return np.stack(columns, axis=1).astype(np.float32)

    def csr(self, num_users: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per behavior, (indptr int64 [num_users + 1], indices int32): each user row's
        item rows, sorted (the bundle's form of the pairs)."""
        out = {}
        for name, keys in zip(self.behaviors, self.keys):
            users = keys // self.num_items
            indptr = np.zeros(num_users + 1, np.int64)
            np.cumsum(np.bincount(users, minlength=num_users), out=indptr[1:])
            out[name] = (indptr, (keys % self.num_items).astype(np.int32))
        return out


def _labels(pairs: np.ndarray, behavior_keys: list[np.ndarray], num_items: int) -> np.ndarray:
    query = pairs[:, 0] * num_items + pairs[:, 1]
    return np.stack([_member(keys, query) for keys in behavior_keys], axis=1).astype(np.float32)


def _samples(
    pairs: np.ndarray, labels: np.ndarray, history: BehaviorHistory | None = None
) -> Samples:
    numeric = (
        history.features(pairs[:, 0], pairs[:, 1])
        if history is not None
        else np.zeros((len(pairs), 0), dtype=np.float32)
    )
    return Samples(
        categorical=(pairs + 1).astype(np.int64),
        numeric=numeric,
        labels=labels.astype(np.float32),
    )


def _with_negatives(
    positives: np.ndarray,
    positive_labels: np.ndarray,
    ratio: int,
    num_items: int,
    excluded_keys: np.ndarray,
    rng: np.random.Generator,
    history: BehaviorHistory | None = None,
) -> Samples:
    users = np.repeat(positives[:, 0], ratio)
    items = sample_negatives(users, num_items, excluded_keys, rng)
    negatives = np.stack([users, items], axis=1)
    pairs = np.concatenate([positives, negatives])
    labels = np.concatenate(
        [positive_labels, np.zeros((len(negatives), positive_labels.shape[1]), np.float32)]
    )
    return _samples(pairs, labels, history)


def build_behavior_samples(
    data: BehaviorPairs,
    negative_ratio: int = DEFAULT_NEGATIVE_RATIO,
    seed: int = 0,
    other_behaviors: str = "negative",
    history: bool = False,
) -> RankingDataset:
    """The ranking dataset of ``data`` (the protocol in this module's docstring)."""
    if negative_ratio < 1:
        raise ValueError("negative_ratio must be at least 1")
    if other_behaviors not in OTHER_BEHAVIORS:
        raise ValueError(
            f"unknown other_behaviors '{other_behaviors}'; valid: {', '.join(OTHER_BEHAVIORS)}"
        )
    rng = np.random.default_rng(seed)
    num_items = data.num_items
    behaviors = data.behaviors
    behavior_keys = [_keys(data.train[name], num_items) for name in behaviors]
    train_keys = np.unique(np.concatenate(behavior_keys))
    positives = np.stack([train_keys // num_items, train_keys % num_items], axis=1)
    features = BehaviorHistory.of(data) if history else None
    positive_labels = _labels(positives, behavior_keys, num_items)
    if other_behaviors == "unlabelled":
        positive_labels[positive_labels == 0] = np.nan
    train = _with_negatives(
        positives,
        positive_labels,
        negative_ratio,
        num_items,
        train_keys,
        rng,
        features,
    )
    held_out = {}
    for split in ("val", "test"):
        given = getattr(data, split)
        if len(given) == 0:
            held_out[split] = _samples(
                np.zeros((0, 2), np.int64), np.zeros((0, len(behaviors)), np.float32), features
            )
            continue
        pairs = pairs_array(given[:, 0], given[:, 1])
        labels = _labels(pairs, behavior_keys, num_items)
        labels[:, 0] = 1.0
        excluded = np.union1d(train_keys, _keys(pairs, num_items))
        held_out[split] = _with_negatives(
            pairs, labels, negative_ratio, num_items, excluded, rng, features
        )
    schema = FeatureSchema(
        categorical=(USER_FEATURE, ITEM_FEATURE),
        cardinalities=(data.num_users + 1, num_items + 1),
        numeric=features.feature_names if features is not None else (),
        tasks=behaviors,
        user_feature=USER_FEATURE,
    )
    stats = {
        "negative_ratio": negative_ratio,
        "other_behaviors": other_behaviors,
        "train_positive_pairs": len(positives),
        **{f"train_pairs:{name}": len(data.train[name]) for name in behaviors},
        **data.stats_extra,
    }
    return RankingDataset(
        name=data.name,
        schema=schema,
        train=train,
        val=held_out["val"],
        test=held_out["test"],
        vocabularies={
            USER_FEATURE: {uid: row + 1 for row, uid in enumerate(data.user_ids)},
            ITEM_FEATURE: {iid: row + 1 for row, iid in enumerate(data.item_ids)},
        },
        stats_extra=stats,
    )
