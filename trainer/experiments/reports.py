"""Writing an artefact: ``<name>.md`` (with how it was made), ``<name>.json``, its PNG figures,
and the index ``README.md`` of the dataset's report folder.

Wall time is kept in ``timings.json`` and only updated by an invocation that ran new runs (or
the first one that writes the artefact), so re-running a finished artefact rewrites the same
files byte for byte.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainer.experiments.runs import Record

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from trainer.experiments.experiment import Experiment

ARTEFACT_TITLES: dict[str, str] = {
    "table2": "Table 2: every method, tuned with an equal budget",
    "tasks": "Table 3: auxiliary tasks per encoder",
    "ablation": "Figure 4: ablation of task focusing and magnitude balancing",
    "sensitivity": "Figure 5: sensitivity to alpha and tau",
    "curves": "Figure 6: validation Recall@20 per epoch",
}


@dataclass
class Artefact:
    """What an artefact computed: Markdown body, JSON data, figures and the runs behind it."""

    name: str
    title: str
    budget: str
    body: str
    data: Any
    runs: list[Record]
    figures: dict[str, Figure] = field(default_factory=dict)


def _workers(workers: int) -> str:
    if workers == 0:
        return "in-process (one torch thread)"
    return f"{workers} spawned worker process(es) of one torch thread each"


def _machine(device: str, workers: int) -> str:
    import torch

    return (
        f"{os.cpu_count()} CPU cores ({platform.machine()}, {platform.system()}), "
        f"torch {torch.__version__}, device {device}, {_workers(workers)}"
    )


def _update_timings(
    path: Path, name: str, wall_seconds: float, new_runs: int, workers: int
) -> dict[str, Any]:
    timings = json.loads(path.read_text()) if path.exists() else {}
    entry = timings.get(name)
    if entry is None or new_runs > 0:
        entry = entry or {"wall_seconds": 0.0, "new_runs": 0, "invocations": 0}
        entry = {
            "wall_seconds": round(entry["wall_seconds"] + wall_seconds, 1),
            "new_runs": entry["new_runs"] + new_runs,
            "invocations": entry["invocations"] + 1,
            "workers": workers,
        }
        timings[name] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
    return entry


def header(experiment: Experiment, artefact: Artefact, timing: dict[str, Any]) -> str:
    distinct = {r["key"]: r for r in artefact.runs}
    training_minutes = sum(r["seconds"] for r in distinct.values()) / 60
    lines = [
        f"# {artefact.title} ({experiment.source.name})",
        "",
        f"- Command: `{experiment.command}`",
        f"- Budget: {artefact.budget}",
        f"- Wall time: {timing['wall_seconds'] / 60:.1f} min over {timing['invocations']} "
        f"invocation(s) that ran {timing['new_runs']} new run(s) "
        f"({_workers(timing['workers'])}); the {len(distinct)} distinct runs behind this "
        "artefact trained for "
        f"{training_minutes:.1f} min in total (summed over runs, one core each; runs "
        "recorded earlier, e.g. by another artefact, are reused and not timed again)",
        f"- Machine: {_machine(experiment.device, timing['workers'])}",
    ]
    if experiment.max_epochs is not None:
        lines.append(
            f"- **Capped at {experiment.max_epochs} epochs (--max-epochs): a smoke run, "
            "not a result.**"
        )
    return "\n".join(lines) + "\n\n"


def write_artefact(experiment: Experiment, artefact: Artefact, wall_seconds: float) -> list[Path]:
    """Write the artefact's files and refresh the folder's index; returns the paths written."""
    from trainer.experiments.figures import save_figure

    directory = experiment.directory
    directory.mkdir(parents=True, exist_ok=True)
    timing = _update_timings(
        directory / "timings.json",
        artefact.name,
        wall_seconds,
        experiment.executor.new_runs,
        experiment.workers,
    )
    written = []
    for stem, figure in artefact.figures.items():
        path = directory / f"{stem}.png"
        save_figure(figure, path)
        written.append(path)
    markdown = directory / f"{artefact.name}.md"
    markdown.write_text(header(experiment, artefact, timing) + artefact.body)
    data = directory / f"{artefact.name}.json"
    data.write_text(json.dumps(artefact.data, indent=2, sort_keys=False) + "\n")
    written += [markdown, data]
    write_index(directory, experiment.source.name)
    return written


def write_index(directory: Path, dataset: str) -> None:
    """``README.md`` linking every artefact present in the folder."""
    lines = [
        f"# Experiment reports: {dataset}",
        "",
        "Written by `python -m trainer.experiments ARTEFACT --dataset "
        f"{dataset}` (docs/experiments.md). Every run behind them is one line of `runs.jsonl`.",
        "",
    ]
    for name, title in ARTEFACT_TITLES.items():
        if not (directory / f"{name}.md").exists():
            continue
        pngs = sorted(p.name for p in directory.glob(f"{name}*.png"))
        links = [f"[{name}.md]({name}.md)", f"[{name}.json]({name}.json)"]
        links += [f"[{png}]({png})" for png in pngs]
        lines.append(f"- {title}: " + ", ".join(links))
    (directory / "README.md").write_text("\n".join(lines) + "\n")
