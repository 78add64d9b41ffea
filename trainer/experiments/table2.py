"""``table2``: every method on a dataset, tuned with an equal budget, 3 seeds on test."""

from __future__ import annotations

from trainer.experiments.experiment import Experiment, Tuning
from trainer.experiments.grids import budget_rule
from trainer.experiments.reports import ARTEFACT_TITLES, Artefact
from trainer.experiments.runs import own_hyperparameters
from trainer.experiments.tables import (
    HEADLINE,
    METRICS,
    RANKING_METRICS,
    Stats,
    best_rows,
    label,
    markdown_table,
    stats_table,
    summarize,
)

# The paper's Table 2 (test split) where this project knows it; other cells print "-".
PAPER_TABLE2: dict[str, dict[str, dict[str, float]]] = {
    "office": {
        "bpr": {"recall@20": 0.0729, "ndcg@20": 0.0402},
        "ew": {"recall@20": 0.0655, "ndcg@20": 0.0334, "recall@40": 0.1074, "ndcg@40": 0.0443},
        "rlw": {"recall@20": 0.0849, "ndcg@20": 0.0439, "recall@40": 0.1321, "ndcg@40": 0.0562},
        "pmtrec": {
            "recall@20": 0.0905,
            "ndcg@20": 0.0473,
            "recall@40": 0.1474,
            "ndcg@40": 0.0619,
        },
    },
}


def tuning_table(tunings: dict[str, Tuning]) -> str:
    rows = []
    for method, tuning in tunings.items():
        for index, record in enumerate(tuning.records):
            config = record["config"]
            own = ", ".join(f"{name}={config[name]:g}" for name in own_hyperparameters(method))
            rows.append(
                [
                    method,
                    f"{config['lr']:g}",
                    f"{config['weight_decay']:g}",
                    own or "-",
                    f"{record['val']['recall@20']:.4f}",
                    f"{record['val']['ndcg@20']:.4f}",
                    f"{record['best_epoch']}/{record['epochs_run']}",
                    f"{record['seconds'] / 60:.1f}",
                    "**chosen**" if index == tuning.best_index else "",
                ]
            )
    header = ["method", "lr", "weight decay", "own", "val R@20", "val N@20"]
    header += ["best/run epochs", "minutes", ""]
    return markdown_table(header, rows)


def paper_table(stats: dict[str, Stats], paper: dict[str, dict[str, float]]) -> str:
    header = ["method"]
    for metric in HEADLINE:
        header += [f"{label(metric)} ours", f"{label(metric)} paper"]
    rows = []
    for method, mine in stats.items():
        row = [method]
        for metric in HEADLINE:
            theirs = paper.get(method, {}).get(metric)
            row += [f"{mine[metric]['mean']:.4f}", f"{theirs:.4f}" if theirs else "-"]
        rows.append(row)
    return markdown_table(header, rows)


def ranking_verdict(stats: dict[str, Stats]) -> str:
    if "pmtrec" not in stats or len(stats) < 2:
        return ""
    first = [m for m in RANKING_METRICS if "pmtrec" in best_rows(stats, m)]
    others = [
        f"{label(m)} ({', '.join(sorted(best_rows(stats, m)))})"
        for m in RANKING_METRICS
        if m not in first
    ]
    verdict = (
        f"PMTRec ranks first (mean over seeds, ties included) on **{len(first)} of the "
        f"{len(RANKING_METRICS)}** Recall/NDCG@5/10/20/40 columns"
    )
    verdict += f": {', '.join(map(label, first))}." if first else "."
    if others:
        verdict += f" First elsewhere: {'; '.join(others)}."
    goal = "met" if len(first) >= 6 else "NOT met"
    return f"{verdict} Goal (first on at least 6 of 8): **{goal}**.\n\n"


def table2(experiment: Experiment) -> Artefact:
    methods = list(experiment.methods)
    more_seeds = [s for s in experiment.seeds if s != experiment.tuning_seed]
    budget = experiment.budget
    tuning_configs = [c for m in methods for c in experiment.tuning_configs(m)]
    experiment.announce(
        "table2",
        len(methods) * (budget + len(more_seeds)),
        f"{len(methods)} methods x (budget {budget} tuning runs on seed "
        f"{experiment.tuning_seed} + {len(more_seeds)} more seeds)",
        tuning_configs,
    )
    tunings = experiment.tune(methods)
    per_method = experiment.run_seeded({m: tunings[m].config for m in methods})
    stats = {m: summarize(per_method[m]) for m in methods}

    seeds = ", ".join(map(str, experiment.seeds))
    paper = PAPER_TABLE2.get(experiment.source.name)
    body = [
        f"Test split, mean ± std (sample, n - 1) over seeds {seeds}; each method with "
        f"the dataset's auxiliary tasks {', '.join(experiment.source.auxiliary_tasks)} (BPR "
        f"alone for `bpr`), MF encoder, {experiment.protocol()}. Best mean per column in "
        "bold.\n\n",
        stats_table(stats, METRICS),
        "\n",
        ranking_verdict(stats),
    ]
    if paper:
        body += [
            "## Beside the paper's Table 2 (test split; '-': not known here)\n\n",
            paper_table(stats, paper),
            "\n",
        ]
    body += [
        f"## Tuning (validation split, seed {experiment.tuning_seed})\n\n",
        f"Budget: {budget_rule()}. The chosen configuration (best validation Recall@20) "
        f"then runs on seeds {seeds}.\n\n",
        tuning_table(tunings),
    ]
    all_runs = [r for t in tunings.values() for r in t.records]
    all_runs += [r for runs in per_method.values() for r in runs]
    return Artefact(
        name="table2",
        title=ARTEFACT_TITLES["table2"],
        budget=(
            f"B = {budget} validation runs per method (seed {experiment.tuning_seed}), the "
            f"same for all {len(methods)} methods; the chosen configuration then runs on "
            f"seeds {seeds} ({len({r['key'] for r in all_runs})} distinct runs)"
        ),
        body="".join(body),
        data={m: {metric: stats[m][metric] for metric in METRICS} for m in methods},
        runs=all_runs,
    )
