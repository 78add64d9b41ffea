"""In-process search speed: FAISS (exact and HNSW) against numpy brute force, 300k items.

    python scripts/bench_index.py [--items 300000] [--dim 32] [--queries 300] [--out FILE]

The catalog is SYNTHETIC: random vectors with recommender-like structure (items in clusters
of related products, vector norms skewed like item popularity, users near a few clusters).
It measures speed and approximate recall at this catalog size only, not model quality.
Everything runs on one thread (FAISS/OpenMP and BLAS), as one service worker does.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/faiss load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.index import ItemIndex, limit_faiss_threads  # noqa: E402
from shared.settings import Settings  # noqa: E402

K = 10


def synthetic_catalog(
    items: int, dim: int, queries: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(items // 150, 1), dim)).astype(np.float32)
    cluster = rng.integers(0, len(centres), items)
    vectors = centres[cluster] + 0.6 * rng.normal(size=(items, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors *= rng.lognormal(0.0, 0.35, size=(items, 1)).astype(np.float32)
    picks = rng.integers(0, len(centres), size=(queries, 3))
    users = centres[picks].mean(axis=1) + 0.5 * rng.normal(size=(queries, dim)).astype(np.float32)
    return vectors.astype(np.float32), users.astype(np.float32)


def numpy_top_k(vectors: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    scores = vectors @ query
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def timed(fn, repeats: int) -> tuple[list[float], list]:
    seconds, results = [], []
    for i in range(repeats):
        start = time.perf_counter()
        results.append(fn(i))
        seconds.append(time.perf_counter() - start)
    return seconds, results


def summary(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1e3
    return {
        "mean_ms": float(ms.mean()),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def recall(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    return float(np.mean([len(set(f) & set(t.tolist())) / K for f, t in zip(found, truth)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=300_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--out", type=Path, default=Path("docs/bench/index.json"))
    args = parser.parse_args(argv)
    limit_faiss_threads(1)
    settings = Settings()

    vectors, users = synthetic_catalog(args.items, args.dim, args.queries)
    print(
        f"synthetic catalog: {args.items} items x {args.dim} dims, {args.queries} queries, "
        f"top-{K}, 1 thread"
    )
    rows: list[dict] = []

    seconds, truth = timed(lambda i: numpy_top_k(vectors, users[i], K), args.queries)
    rows.append(
        {"method": "numpy brute force", "build_s": 0.0, **summary(seconds), "recall@10": 1.0}
    )

    start = time.perf_counter()
    exact = ItemIndex(vectors, "exact")
    build = time.perf_counter() - start
    seconds, found = timed(lambda i: exact.search(users[i], K).rows[0], args.queries)
    rows.append(
        {
            "method": "faiss exact (IndexFlatIP)",
            "build_s": build,
            **summary(seconds),
            "recall@10": recall(found, truth),
        }
    )

    start = time.perf_counter()
    hnsw = ItemIndex(
        vectors,
        "hnsw",
        hnsw_m=settings.hnsw_m,
        hnsw_ef_search=settings.hnsw_ef_search,
        hnsw_ef_construction=settings.hnsw_ef_construction,
    )
    build = time.perf_counter() - start
    for ef in args.ef_search:
        hnsw.ef_search = ef
        seconds, found = timed(lambda i: hnsw.search(users[i], K).rows[0], args.queries)
        rows.append(
            {
                "method": f"faiss HNSW (M={settings.hnsw_m}, efC="
                f"{settings.hnsw_ef_construction}, efSearch={ef})",
                "build_s": build,
                **summary(seconds),
                "recall@10": recall(found, truth),
            }
        )

    header = f"{'method':<46}{'build s':>9}{'mean ms':>9}{'p50 ms':>9}{'p99 ms':>9}{'R@10':>7}"
    print(header)
    for row in rows:
        print(
            f"{row['method']:<46}{row['build_s']:>9.1f}{row['mean_ms']:>9.3f}"
            f"{row['p50_ms']:>9.3f}{row['p99_ms']:>9.3f}{row['recall@10']:>7.3f}"
        )
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}",
        "catalog": f"synthetic, {args.items} items x {args.dim} dims (clustered, skewed norms)",
        "queries": args.queries,
        "k": K,
        "threads": 1,
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(report))
    print(f"written to {args.out} and {args.out.with_suffix('.md')}")
    return 0


def render(report: dict) -> str:
    lines = [
        "# Index benchmark (in-process, one thread)",
        "",
        f"- when: {report['when']}; machine: {report['machine']}",
        f"- catalog: {report['catalog']} (SYNTHETIC: speed and recall only, not quality)",
        f"- {report['queries']} single-vector queries, top-{report['k']}; recall@10 against exact",
        "",
        "| method | build s | mean ms | p50 ms | p99 ms | recall@10 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['method']} | {r['build_s']:.1f} | {r['mean_ms']:.3f} | {r['p50_ms']:.3f} | "
        f"{r['p99_ms']:.3f} | {r['recall@10']:.3f} |"
        for r in report["results"]
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
