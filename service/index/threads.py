"""FAISS uses OpenMP; bound its threads so a worker process does not oversubscribe cores."""

from __future__ import annotations

import faiss


def limit_faiss_threads(threads: int) -> None:
    """Use at most ``threads`` OpenMP threads for FAISS in this process."""
    faiss.omp_set_num_threads(max(1, int(threads)))
