"""An approximate index for very large catalogues: FAISS HNSW beside IVF-Flat and IVF-PQ at 1M
synthetic items.

    .venv/bin/python scripts/bench_ann_1m.py [--items 1000000] [--queries 200]

The catalogue is SYNTHETIC (``scripts/bench_index.py``'s clustered vectors with skewed norms,
dim 32): it measures memory, build time, query time and recall@20 of the approximate top 20
against the exact inner-product top 20 (IndexFlatIP), not model quality. HNSW is built with the
service's settings (``PMTREC_HNSW_M``, ``PMTREC_HNSW_EF_CONSTRUCTION``: service/index) and
searched at several efSearch. One thread. Writes docs/bench/ann-1m.md; docs/scaling.md
extrapolates the memory to 10M items.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_index import synthetic_catalog  # noqa: E402

from shared.settings import Settings  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "bench" / "ann-1m.md"
K = 20


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nlist", type=int, default=1024)
    parser.add_argument("--m", type=int, default=32, help="PQ sub-quantisers (bytes per item)")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    items, queries = synthetic_catalog(args.items, 32, args.queries)
    dim = items.shape[1]

    exact = faiss.IndexFlatIP(dim)
    exact.add(items)
    started = time.perf_counter()
    _, truth = exact.search(queries, K)
    exact_ms = 1000 * (time.perf_counter() - started) / len(queries)
    rows = [("exact (IndexFlatIP)", len(faiss.serialize_index(exact)), 0.0, exact_ms, 1.0)]

    settings = Settings()
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = settings.hnsw_ef_construction
    hnsw.add(items)
    build_s = time.perf_counter() - started
    size = len(faiss.serialize_index(hnsw))
    label = f"HNSW (M={settings.hnsw_m}, efConstruction={settings.hnsw_ef_construction})"
    for ef in args.ef_search:
        hnsw.hnsw.efSearch = ef
        started = time.perf_counter()
        _, found = hnsw.search(queries, K)
        ms = 1000 * (time.perf_counter() - started) / len(queries)
        rows.append((f"{label}, efSearch={ef}", size, build_s, ms, recall(found, truth)))
    del hnsw

    sample = items[np.random.default_rng(1).choice(len(items), 64 * args.nlist, replace=False)]
    for label, make in (
        (
            f"IVF-Flat (nlist={args.nlist})",
            lambda q: faiss.IndexIVFFlat(q, dim, args.nlist, faiss.METRIC_INNER_PRODUCT),
        ),
        (
            f"IVF-PQ (nlist={args.nlist}, {args.m} B/item)",
            lambda q: faiss.IndexIVFPQ(q, dim, args.nlist, args.m, 8, faiss.METRIC_INNER_PRODUCT),
        ),
    ):
        started = time.perf_counter()
        index = make(faiss.IndexFlatIP(dim))
        index.train(sample)
        index.add(items)
        build_s = time.perf_counter() - started
        size = len(faiss.serialize_index(index))
        for nprobe in (8, 32, 128):
            index.nprobe = nprobe
            started = time.perf_counter()
            _, found = index.search(queries, K)
            ms = 1000 * (time.perf_counter() - started) / len(queries)
            rows.append((f"{label}, nprobe={nprobe}", size, build_s, ms, recall(found, truth)))
            if "PQ" in label and nprobe == 128:
                # PQ's distances are coarse: re-rank its top 200 with the exact vectors.
                _, wide = index.search(queries, 200)
                scores = np.einsum("qd,qkd->qk", queries, items[wide])
                order = np.argsort(-scores, axis=1)[:, :K]
                reranked = np.take_along_axis(wide, order, axis=1)
                name = f"{label}, nprobe=128, top 200 re-ranked exactly"
                rows.append((name, size, build_s, float("nan"), recall(reranked, truth)))

    lines = [
        f"# Approximate index at {args.items:,} synthetic items (dim {dim})",
        "",
        f"`.venv/bin/python scripts/bench_ann_1m.py --items {args.items}`: FAISS "
        f"{faiss.__version__}, one thread, on a shared 2-core machine; {args.queries} queries; "
        f"recall@{K} of the approximate top {K} against the exact inner-product top {K}. The "
        "catalogue is SYNTHETIC (clustered vectors, skewed norms): speed, memory and recall only. "
        "Size: `faiss.serialize_index` of the built index (vectors or codes, ids, graph); build: "
        "wall seconds of training and adding every item; ms per query: one batch search of "
        "every query, divided by their number.",
        "",
        "| index | size MiB | build s | ms per query | recall@20 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, size, build, ms, rec in rows:
        shown = "-" if ms != ms else f"{ms:.2f}"
        lines.append(f"| {name} | {size / 2**20:.1f} | {build:.1f} | {shown} | {rec:.3f} |")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
