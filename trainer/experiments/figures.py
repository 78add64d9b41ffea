"""The artefacts' figures, built as matplotlib ``Figure`` objects on the Agg canvas.

matplotlib is imported inside each function, so the experiments command (and everything that
imports this package) starts without it; pyplot is never used, so no global figure state or
interactive backend is involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float, columns: int = 1) -> tuple[Figure, list]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def save_figure(figure: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No timestamp or version in the PNG metadata: the same numbers give the same bytes.
    figure.savefig(path, dpi=120, metadata={"Software": None})


def curves_figure(curves: Mapping[str, Sequence[float]], title: str) -> Figure:
    """Validation Recall@20 per epoch, one line per method."""
    figure, (axes,) = new_figure(8, 5)
    for name, values in curves.items():
        axes.plot(range(1, len(values) + 1), values, label=name, linewidth=1.5)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation Recall@20")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small", ncol=2)
    return figure


def sensitivity_figure(
    parameter: str,
    values: Sequence[float],
    series: Mapping[str, Mapping[str, tuple[Sequence[float], Sequence[float]]]],
    title: str,
    log_x: bool = False,
) -> Figure:
    """One panel per metric; in each, a line per split (mean with std error bars).

    ``series[metric][split] = (means, stds)`` aligned with ``values``.
    """
    figure, axes_list = new_figure(10, 4.2, columns=len(series))
    for axes, (metric, splits) in zip(axes_list, series.items()):
        for split, (means, stds) in splits.items():
            axes.errorbar(values, means, yerr=stds, marker="o", capsize=3, label=split)
        if log_x:
            axes.set_xscale("log")
        axes.set_xticks(list(values), [f"{value:g}" for value in values])
        axes.set_xlabel(parameter)
        axes.set_ylabel(metric)
        axes.set_title(metric)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    figure.suptitle(title)
    return figure


def bars_figure(
    groups: Sequence[str],
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    title: str,
    ylabel: str,
) -> Figure:
    """Grouped bars: one group per entry of ``groups``, one bar per series (with std)."""
    figure, (axes,) = new_figure(8, 4.5)
    width = 0.8 / max(len(series), 1)
    for index, (name, (means, stds)) in enumerate(series.items()):
        positions = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        axes.bar(positions, means, width, yerr=stds, capsize=3, label=name)
    axes.set_xticks(range(len(groups)), groups)
    axes.set_title(title)
    axes.set_xlabel("variant")
    axes.set_ylabel(ylabel)
    axes.grid(True, axis="y", alpha=0.3)
    axes.legend(fontsize="small")
    return figure
