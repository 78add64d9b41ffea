"""The product's components, declared once and without torch (``shared/registry.py``).

Each declaration gives a component's name and hyper-parameters (type, default, valid
values, help, and the values the experiments tune over); the trainer's implementations bind
to them with ``trainer.registry.implements``. Adding a component is its implementation file
and its declaration here (docs/extending.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.registry import (
    COMBINERS,
    DATASETS,
    ENCODERS,
    RANKERS,
    TASKS,
    Component,
    Param,
    flatten,
    load_plugins,
)

# Upper bounds: far above any useful value, low enough that a typo (dim=10**12, epochs=1e300)
# is refused before a worker tries to allocate or run it. Seeds are 32-bit unsigned, which
# every random generator of the trainer (torch, numpy) accepts.
MAX_DIM = 4096
MAX_LAYERS = 16
MAX_BATCH_SIZE = 1 << 20
MAX_EPOCHS = 10_000
MAX_VAL_USERS = 10_000_000
MAX_SEED = 2**32 - 1
MAX_CORE = 1000
MAX_NEGATIVE_RATIO = 100

# What evaluation leaves out of a user's ranked list (trainer.data.RecDataset.excluded_csr).
EVAL_EXCLUDE = ("positives", "seen")
# The main ranking tasks (trainer/tasks): the first task of every run.
MAIN_TASKS = ("bpr", "softmax")
# What the rating task regresses (trainer.tasks.rating).
RATING_TARGETS = ("stars", "unit", "standard")
# A behavior's name (a CSV's behavior column): it names a task and a ranker objective.
BEHAVIOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A file path on the worker: not blank, no control characters.
_PATH = r"(?=.*\S)[^\x00-\x1f\x7f]+"

# -- the training loop's own hyper-parameters (trainer.training.TrainConfig) ---------------
TRAINING: tuple[Param, ...] = (
    Param("encoder", str, "mf", "the encoder", choices=ENCODERS),
    Param("dim", int, 32, "embedding size", low=1, high=MAX_DIM),
    Param("lr", float, 0.01, "Adam's learning rate", low=0, low_inclusive=False),
    Param("weight_decay", float, 1e-6, "Adam's weight decay", low=0),
    Param(
        "init",
        str,
        "xavier",
        "embedding start: xavier (random) or als (fine-tune ALS factors; mf only)",
        choices=("xavier", "als"),
    ),
    Param(
        "main_task",
        str,
        "bpr",
        "the main ranking task: bpr (one uniform negative per positive) or softmax (sampled "
        "softmax over the step's items)",
        choices=MAIN_TASKS,
    ),
    Param("batch_size", int, 2048, "training positives per step", low=1, high=MAX_BATCH_SIZE),
    Param("epochs", int, 300, "maximum number of epochs", low=1, high=MAX_EPOCHS),
    Param("patience", int, 10, "early stopping patience (epochs)", low=1, high=MAX_EPOCHS),
    Param(
        "val_users",
        int,
        0,
        "monitor a fixed sample of this many validation users per epoch (0: all)",
        low=0,
        high=MAX_VAL_USERS,
    ),
    Param(
        "eval_exclude",
        str,
        "positives",
        "training items left out of the evaluated lists: positives (the paper's protocol) or "
        "seen (every training interaction, low ratings too, as the service does)",
        choices=EVAL_EXCLUDE,
    ),
    Param("seed", int, 0, "seed of every random draw", low=0, high=MAX_SEED),
    Param(
        "device",
        str,
        "auto",
        "auto (default), cpu or cuda",
        pattern=r"auto|cpu|cuda(:\d+)?",
        rule="auto, cpu, cuda or cuda:N",
    ),
    Param(
        "optimizer",
        str,
        "adam",
        "adam (dense, as in Algorithm 1) or row_sparse_adam (touched rows only; mf)",
        choices=("adam", "row_sparse_adam"),
    ),
)

# -- gradient combiners (trainer/combiners) ------------------------------------------------
COMBINERS.declare(
    "pmtrec",
    (
        Param(
            "alpha",
            float,
            1.0,
            "PMTRec task focusing (1 = off)",
            low=1,
            tuning=(1.0, 1.02, 1.04),
        ),
        # Tuning values on the scale of per-row gradient norms; tau <= 1e-3 collapses PMTRec
        # on Office because the rating task's gradients are far larger than BPR's.
        Param(
            "tau",
            float,
            1.0,
            "PMTRec softmax temperature",
            low=0,
            low_inclusive=False,
            tuning=(0.01, 0.1),
        ),
    ),
    "per-row task focusing and magnitude balancing (Yang et al., 2024)",
)
COMBINERS.declare("ew", help="equal weighting: the plain sum of the task losses")
COMBINERS.declare("bpr", help="the main (BPR) task alone")
COMBINERS.declare("graddrop", help="GradDrop (Chen et al., 2020)")
COMBINERS.declare("pcgrad", help="PCGrad (Yu et al., 2020)")
COMBINERS.declare(
    "gradvac",
    (
        Param(
            "gradvac_beta",
            float,
            0.01,
            "GradVac EMA rate",
            low=0,
            high=1,
            tuning=(0.01, 0.001, 0.1),
        ),
    ),
    "gradient vaccine (Wang et al., 2021)",
)
COMBINERS.declare(
    "cagrad",
    (
        Param(
            "cagrad_c",
            float,
            0.4,
            "CAGrad conflict-aversion radius c",
            low=0,
            tuning=(0.4, 0.2, 0.8),
        ),
    ),
    "conflict-averse gradient descent (Liu et al., 2021)",
)
COMBINERS.declare("aligned_mtl", help="Aligned-MTL (Senushkin et al., 2023)")
COMBINERS.declare("nash_mtl", help="Nash-MTL (Navon et al., 2022); needs pmtrec[nash]")
COMBINERS.declare("rlw", help="random loss weighting (Lin et al., 2022)")

# -- encoders (trainer/encoders) -----------------------------------------------------------
# row_local: a row's final vector depends on that row alone, so a step may touch its rows only.
_LAYERS = Param("layers", int, 3, "propagation layers (lightgcn, ngcf)", low=1, high=MAX_LAYERS)
ENCODERS.declare("mf", help="matrix factorisation", row_local=True)
ENCODERS.declare("lightgcn", (_LAYERS,), "LightGCN (He et al., 2020)", row_local=False)
ENCODERS.declare("ngcf", (_LAYERS,), "NGCF (Wang et al., 2019)", row_local=False)

# -- tasks (trainer/tasks) -----------------------------------------------------------------
TASKS.declare("bpr", help="the main task: BPR on the training positives")
TASKS.declare(
    "softmax",
    (
        Param(
            "softmax_temperature",
            float,
            0.1,
            "sampled softmax temperature (main_task=softmax)",
            low=0,
            low_inclusive=False,
        ),
        Param(
            "softmax_negatives",
            int,
            1024,
            "uniform items a sampled softmax step adds to the in-batch ones (main_task=softmax)",
            low=0,
            high=MAX_BATCH_SIZE,
        ),
    ),
    "a main task in place of BPR: sampled softmax over the step's items (in-batch and "
    "uniform negatives)",
)
TASKS.declare(
    "align_uniform",
    (Param("au_gamma", float, 1.0, "uniformity weight of the DirectAU task", low=0),),
    "DirectAU's alignment and uniformity",
)
TASKS.declare(
    "rating",
    (
        # What u.i regresses: the stars as given, or a rescaled star (the dot products of a
        # warm start from ALS sit near 0.3, far below stars of 1 to 5).
        Param(
            "rating_target",
            str,
            "stars",
            "what the rating task regresses: stars (as given), unit ((r - min) / (max - min) "
            "of the training ratings, 0 to 1) or standard ((r - mean) / std of them)",
            choices=RATING_TARGETS,
        ),
    ),
    "rating regression on the training interactions",
)
TASKS.declare(
    "link",
    (
        # Links each link-prediction task (social, same_category, co_view, ...) draws per
        # step, as a fraction of the step's training positives: below 1 the task touches
        # fewer rows a step.
        Param(
            "link_ratio",
            float,
            1.0,
            "links a link-prediction task draws per step, per training positive (default 1)",
            low=0,
            high=1,
            low_inclusive=False,
        ),
    ),
    "link prediction over one of the dataset's relations (dataset.links), by its name",
)
TASKS.declare(
    "behavior",
    help="BPR over an auxiliary behavior's pairs (dataset.behaviors), by the behavior's name",
)

# -- datasets (trainer/data) ---------------------------------------------------------------
# Load options (trainer.data.LoadOptions); each dataset lists the ones it takes.
CORE = Param(
    "core", int, 0, "keep the iterative k-core (e.g. 5); default: none", low=0, high=MAX_CORE
)
INTERACTIONS = Param(
    "interactions",
    Path,
    None,
    "csv: CSV file user,item[,rating][,timestamp] or user,item,behavior[,timestamp]",
    pattern=_PATH,
    rule="a file path on the worker",
)
ITEM_PAIRS = Param(
    "item_pairs",
    Path,
    None,
    "csv: CSV file item,item of linked items",
    pattern=_PATH,
    rule="a file path on the worker",
)
USER_PAIRS = Param(
    "user_pairs",
    Path,
    None,
    "csv: CSV file user,user of linked users",
    pattern=_PATH,
    rule="a file path on the worker",
)
SKIP_BAD_ROWS = Param(
    "skip_bad_rows", bool, False, "skip and count malformed rows (csv, videogame)"
)
TARGET_BEHAVIOR = Param(
    "target_behavior",
    str,
    None,
    "csv with a behavior column: the behavior to recommend for (e.g. buy); every other "
    "behavior is an auxiliary task",
    pattern=BEHAVIOR_NAME.pattern,
    rule="a behavior name: 1..64 letters, digits, '_', '.' or '-'",
)
# The star scale of Amazon and Epinions reviews: POST /feedback refuses ratings outside the
# scale of the dataset the active model serves. "csv" has no fixed scale (the settings'
# feedback_min_rating/max_rating apply).
STAR_SCALE = (1.0, 5.0)

# auxiliary_tasks: trained beside the BPR main task by default; optional_tasks: built only
# when their file was given (--item-pairs, --user-pairs).
DATASETS.declare(
    "office",
    help="Amazon Office Products",
    rating_scale=STAR_SCALE,
    auxiliary_tasks=("align_uniform", "rating"),
    # What `python -m trainer.fit --dataset office` and a first model train: EW from ALS-128,
    # the validation-best multi-task model (docs/results.md, "Against the baselines users
    # pick"); other datasets train PMTRec.
    default_method="ew",
)
DATASETS.declare(
    "epinions",
    (CORE,),
    "Epinions ratings, trust links and categories",
    rating_scale=STAR_SCALE,
    # Link prediction over the dataset's relations of the same name (dataset.links).
    # Chosen on validation Recall@20 (docs/hyperparameters.md): with PMTRec on the 5-core,
    # same_category alone scored best of the task sets, social slowed training and lowered it,
    # so social is offered (--tasks social,same_category) but not trained by default. On the
    # 5-core no task set has beaten BPR alone (same_category at link_ratio 0.1 ties it); on
    # the full catalogue PMTRec with same_category beats BPR alone on test over 3 seeds
    # (Recall@20 0.0385 against 0.0364, docs/results.md).
    auxiliary_tasks=("same_category",),
)
DATASETS.declare(
    "amazon-hin",
    (CORE,),
    "Amazon heterogeneous information network",
    rating_scale=STAR_SCALE,
    # Chosen on validation Recall@20 (docs/datasets.md): same_brand hurt, same_category helped.
    auxiliary_tasks=("co_view", "same_category"),
)
DATASETS.declare(
    "videogame",
    (CORE, SKIP_BAD_ROWS),
    "Amazon Video Games",
    rating_scale=STAR_SCALE,
    auxiliary_tasks=("co_view", "co_buy"),
)
DATASETS.declare(
    "csv",
    (CORE, INTERACTIONS, ITEM_PAIRS, USER_PAIRS, SKIP_BAD_ROWS, TARGET_BEHAVIOR),
    "your own interactions (CSV files)",
    auxiliary_tasks=("item_pairs", "user_pairs"),
    optional_tasks=("item_pairs", "user_pairs"),
    required=("interactions",),
)
# BPR over the auxiliary behavior's pairs (dataset.behaviors), beside BPR on buy.
DATASETS.declare("tmall", help="Tmall buy / cart", auxiliary_tasks=("cart",))
DATASETS.declare("beibei", help="Beibei buy / cart", auxiliary_tasks=("cart",))

# -- ranking architectures (trainer/ranking/models) and the ranking stage ----------------
RANKERS.declare("shared_bottom", help="a shared bottom network, one tower per task")
RANKERS.declare("mmoe", help="multi-gate mixture of experts (Ma et al., 2018)")
RANKERS.declare("ple", help="progressive layered extraction (Tang et al., 2020)")
RANKERS.declare("stem", help="STEM-Net (Su et al., 2024)")
RANKERS.declare("split_mmoe", help="MMoE with per-task embeddings")
RANKERS.declare("drgrad", help="DRGrad: router, updater and personal gate")

# The ranking stage's settings a two-stage run may set (trainer.twostage.RankerStage).
RANKER_STAGE: tuple[Param, ...] = (
    Param(
        "negative_ratio",
        int,
        3,
        "ranker negatives per positive",
        low=1,
        high=MAX_NEGATIVE_RATIO,
    ),
    Param("lr", float, 1e-3, "the ranker's learning rate", low=0, low_inclusive=False),
    Param("batch_size", int, 2048, "ranker samples per step", low=1, high=MAX_BATCH_SIZE),
    Param("epochs", int, 20, "ranker epochs (maximum)", low=1, high=MAX_EPOCHS),
    Param("patience", int, 2, "ranker early stopping patience", low=1, high=MAX_EPOCHS),
    Param(
        "other_behaviors",
        str,
        "unlabelled",
        "a training pair's label for the behaviors it lacks: unlabelled (left out of the "
        "loss) or negative (0)",
        choices=("unlabelled", "negative"),
    ),
    Param(
        "history",
        bool,
        True,
        "the user's other behaviors on the item as ranker features (history:<behavior>)",
    ),
)


# -- derived views ---------------------------------------------------------------------------
def training_params() -> dict[str, Param]:
    """Every TrainConfig hyper-parameter a user may set: the loop's own, then those of every
    combiner, encoder and task declared now (plug-ins included)."""
    components = [*COMBINERS.components(), *ENCODERS.components(), *TASKS.components()]
    return flatten([Component("training", "training", TRAINING), *components])


# The method a run trains when none is named (a dataset's declaration may name its own).
DEFAULT_METHOD = "pmtrec"


def default_method(dataset: str) -> str:
    """The method ``python -m trainer.fit --dataset DATASET``, POST /retrain and a first model
    train when none is named: the dataset's declared ``default_method``, else PMTRec."""
    if dataset in DATASETS:
        return DATASETS.get(dataset).extra.get("default_method", DEFAULT_METHOD)
    return DEFAULT_METHOD


def load_option_params() -> dict[str, Param]:
    """Every dataset load option (trainer.data.LoadOptions) by name."""
    return flatten(DATASETS.components())


def combination_problem(values: Mapping[str, Any]) -> str | None:
    """The one rule across fields: the row-sparse optimiser needs a row-local encoder."""
    encoder = values.get("encoder", "mf")
    row_local = encoder in ENCODERS and ENCODERS.get(encoder).extra.get("row_local", False)
    if values.get("optimizer") == "row_sparse_adam" and not row_local:
        return (
            "optimizer row_sparse_adam needs a row-local encoder (mf): graph encoders touch "
            "every row each step"
        )
    return None


def own_tuning_values(method: str) -> tuple[dict[str, Any], ...]:
    """A method's own values of the experiments' tuning grid: every combination of its
    parameters' ``tuning`` values, the first parameter varying fastest ((({},)) if none)."""
    tuned = [p for p in COMBINERS.get(method).params if p.tuning]
    combos: list[dict[str, Any]] = [{}]
    for param in tuned:
        combos = [{**c, param.name: v} for v in param.tuning for c in combos]
    return tuple({p.name: c[p.name] for p in tuned} for c in combos)


load_plugins()
