"""Numbers to tables: mean and std over seeds, Markdown tables, metric labels."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from trainer.experiments.runs import Record

KS: tuple[int, ...] = (5, 10, 20, 40)
METRICS: tuple[str, ...] = tuple(f"{name}@{k}" for name in ("recall", "ndcg", "hit") for k in KS)
RANKING_METRICS: tuple[str, ...] = tuple(m for m in METRICS if not m.startswith("hit"))
HEADLINE: tuple[str, ...] = ("recall@20", "ndcg@20", "recall@40", "ndcg@40")
_LABELS = {"recall": "R", "ndcg": "N", "hit": "HR"}

Stats = dict[str, dict[str, float]]


def label(metric: str) -> str:
    """``recall@20`` -> ``R@20``."""
    name, _, k = metric.partition("@")
    return f"{_LABELS.get(name, name)}@{k}"


def summarize(records: Sequence[Record], split: str = "test") -> Stats:
    """Mean and sample standard deviation (n - 1; 0 for one seed) of every metric."""
    if not records:
        raise ValueError("no runs to summarize")
    names = [m for m in METRICS if m in records[0][split]]
    names += sorted(set(records[0][split]) - set(names))
    stats: Stats = {}
    for name in names:
        values = [r[split][name] for r in records]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        stats[name] = {"mean": statistics.fmean(values), "std": std}
    return stats


def mean_std(stat: dict[str, float]) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def best_rows(stats: dict[str, Stats], metric: str) -> set[str]:
    """The rows with the highest mean of ``metric`` (several on an exact tie)."""
    top = max(s[metric]["mean"] for s in stats.values())
    return {row for row, s in stats.items() if s[metric]["mean"] == top}


def stats_table(stats: dict[str, Stats], metrics: Sequence[str], first: str = "method") -> str:
    """Rows of mean ± std, the best mean of each column in bold."""
    best = {metric: best_rows(stats, metric) for metric in metrics}
    rows = [
        [row]
        + [
            f"**{mean_std(s[m])}**" if row in best[m] and len(stats) > 1 else mean_std(s[m])
            for m in metrics
        ]
        for row, s in stats.items()
    ]
    return markdown_table([first, *map(label, metrics)], rows)


def hyperparameter_text(config: dict, names: Sequence[str]) -> str:
    return ", ".join(f"{name}={config[name]:g}" for name in names)
