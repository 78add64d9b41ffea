"""Two-stage (format-2) bundles for the service's tests and benchmarks: a retrieval bundle's
arrays written again with a ranker, an MMoE over the user and item ids (bundle row + 1, 0 =
unknown) exported by the trainer (``trainer.ranking.export.ranker_onnx``).

This module imports torch, so the service tests run it in a subprocess
(``build_ranked_bundles``), and their own process never does::

    python -m tests.service.ranked_bundle '[{"source": "...", "target": "...", ...}]'

The ranker is not trained: its id embeddings are drawn from N(0, 1) instead of the trainer's
N(0, 1e-4) start, so that its probabilities differ from item to item and from objective to
objective (what the ordering tests need); it says nothing about quality.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
OBJECTIVES = ("buy", "cart")


def rewrite_with_ranker(retrieval, target: Path, version: str, ranker) -> Path:
    """The arrays of the loaded bundle ``retrieval`` written again at ``target`` as a
    format-2 bundle carrying ``ranker`` (a ``shared.bundle.RankerSpec``)."""
    from shared.bundle import write_bundle

    return write_bundle(
        target,
        model_version=version,
        dataset=retrieval.manifest["dataset"],
        method=retrieval.manifest["method"],
        hyperparameters=retrieval.manifest["hyperparameters"],
        metrics=retrieval.manifest["metrics"],
        user_embeddings=retrieval.user_embeddings,
        item_embeddings=retrieval.item_embeddings,
        user_ids=retrieval.user_ids,
        item_ids=retrieval.item_ids,
        seen_indptr=retrieval.seen_indptr,
        seen_indices=retrieval.seen_indices,
        item_popularity=retrieval.item_popularity,
        user_encoder_onnx=retrieval.user_encoder_path.read_bytes(),
        overwrite=True,
        ranker=ranker,
    )


def write_ranked_bundle(
    source: Path,
    target: Path,
    version: str,
    seed: int = 0,
    objectives: tuple[str, ...] = OBJECTIVES,
    default_weights: dict[str, float] | None = None,
    ranker_config: dict[str, Any] | None = None,
    history: bool = False,
) -> Path:
    """``source``'s retrieval arrays and a random MMoE ranker over its users and items, as a
    format-2 bundle at ``target`` (the first objective is the target). With ``history``, the
    ranker also reads ``history:<objective 2>`` and the bundle carries random pairs of that
    behavior (every user has a few), with a large learned vector so the feature moves the
    probabilities."""
    import torch

    from shared.bundle import RankerSpec, load_bundle
    from trainer.ranking.export import ranker_onnx
    from trainer.ranking.models import RankerConfig, build_ranker
    from trainer.ranking.samples import FeatureSchema

    torch.set_num_threads(1)
    retrieval = load_bundle(Path(source))
    schema = FeatureSchema(
        categorical=("user", "item"),
        cardinalities=(retrieval.num_users + 1, retrieval.num_items + 1),
        numeric=(f"history:{objectives[1]}",) if history else (),
        tasks=tuple(objectives),
        user_feature="user",
    )
    torch.manual_seed(seed)
    config = RankerConfig.from_dict(ranker_config or {})
    model = build_ranker("mmoe", schema, config)
    with torch.no_grad():
        model.embedding.table.normal_(0.0, 1.0)
        model.embedding.numeric_vectors.normal_(0.0, 3.0)
    pairs = {}
    if history:
        rng = np.random.default_rng(seed)
        per_user = 4
        indices = np.sort(
            np.stack(
                [
                    rng.choice(retrieval.num_items, per_user, replace=False)
                    for _ in range(retrieval.num_users)
                ]
            ),
            axis=1,
        ).ravel()
        indptr = np.arange(retrieval.num_users + 1, dtype=np.int64) * per_user
        pairs = {objectives[1]: (indptr, indices.astype(np.int32))}
    return rewrite_with_ranker(
        retrieval,
        Path(target),
        version,
        RankerSpec(
            onnx=ranker_onnx(model),
            model="mmoe",
            objectives=list(objectives),
            target=objectives[0],
            default_weights=default_weights,
            hyperparameters=config.to_dict(),
            history=pairs,
        ),
    )


def ranker_probabilities(bundle: Path, user_input: int, item_rows) -> dict[str, np.ndarray]:
    """What the bundle's ``ranker.onnx`` says, run with onnxruntime here (not through the
    service): each objective's probabilities for one user input (row + 1, 0 = unknown) and
    the given item rows."""
    import onnxruntime as ort

    manifest = json.loads((Path(bundle) / "manifest.json").read_text())["ranker"]
    session = ort.InferenceSession(str(Path(bundle) / "ranker.onnx"))
    items = np.asarray(item_rows, dtype=np.int64)
    feeds = {"categorical": np.stack([np.full_like(items, user_input), items + 1], axis=1)}
    if "numeric" in {i.name for i in session.get_inputs()}:
        feeds["numeric"] = history_features(bundle, user_input, items)
    names = [manifest["outputs"][o] for o in manifest["objectives"]]
    outputs = session.run(names, feeds)
    return {o: np.asarray(v, dtype=np.float64) for o, v in zip(manifest["objectives"], outputs)}


def history_features(bundle: Path, user_input: int, item_rows: np.ndarray) -> np.ndarray:
    """The ranker's numeric input, read here from the bundle's files: per history behavior
    of the manifest, 1 where the user (row + 1; 0 = unknown) has the item, else 0."""
    ranker = json.loads((Path(bundle) / "manifest.json").read_text())["ranker"]
    behaviors = (ranker.get("history") or {}).get("behaviors", [])
    features = np.zeros((len(item_rows), len(behaviors)), dtype=np.float32)
    if not behaviors or user_input == 0:
        return features
    with np.load(Path(bundle) / "ranker_history.npz") as saved:
        for column, name in enumerate(behaviors):
            indptr, indices = saved[f"{name}.indptr"], saved[f"{name}.indices"]
            has = set(indices[indptr[user_input - 1] : indptr[user_input]].tolist())
            features[:, column] = [float(int(i) in has) for i in item_rows]
    return features


def expected_order(
    bundle: Path, user_input: int, item_rows, weights: dict[str, float]
) -> tuple[list[int], np.ndarray]:
    """The item rows by blended probability (the weighted mean of the objectives'), best
    first, and the blended scores in that order."""
    probabilities = ranker_probabilities(bundle, user_input, item_rows)
    total = sum(weights.values())
    blended = sum(w / total * probabilities[o] for o, w in weights.items())
    order = np.argsort(-blended, kind="stable")
    return [int(item_rows[i]) for i in order], blended[order]


def build_ranked_bundles(jobs: list[dict[str, Any]], timeout: float = 300) -> None:
    """Run ``write_ranked_bundle(**job)`` for every job in a subprocess (torch stays out of
    the calling process); raises with the subprocess's error output when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.service.ranked_bundle", json.dumps(jobs, default=str)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the ranked bundles failed:\n{done.stderr[-3000:]}")


def main(argv: list[str]) -> int:
    for job in json.loads(argv[0]):
        job["objectives"] = tuple(job.get("objectives", OBJECTIVES))
        print(write_ranked_bundle(**job), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
