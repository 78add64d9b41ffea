"""``ablation``: full PMTRec vs no task focusing vs no magnitude balancing (Figure 4)."""

from __future__ import annotations

from dataclasses import replace

from trainer.experiments.experiment import Experiment
from trainer.experiments.figures import bars_figure
from trainer.experiments.reports import ARTEFACT_TITLES, Artefact
from trainer.experiments.tables import HEADLINE, stats_table, summarize

# Variant -> the hyper-parameters it overrides (alpha = 1: no focusing; tau = 1: no balancing,
# per-row gradient norms being far below 1 so the softmax is close to uniform).
ABLATIONS: dict[str, dict[str, float]] = {
    "PMTRec (full)": {},
    "no focusing (alpha=1)": {"alpha": 1.0},
    "no balancing (tau=1)": {"tau": 1.0},
    "neither (alpha=1, tau=1)": {"alpha": 1.0, "tau": 1.0},
}


def ablation(experiment: Experiment) -> Artefact:
    seeds = experiment.seeds
    experiment.announce(
        "ablation",
        experiment.budget + len(ABLATIONS) * len(seeds),
        f"pmtrec tuning ({experiment.budget} runs, shared with table2) + {len(ABLATIONS)} "
        f"variants x {len(seeds)} seeds, at most",
        experiment.tuning_configs("pmtrec"),
    )
    tuning = experiment.tune(["pmtrec"])["pmtrec"]
    tuned = tuning.config
    rows = {name: replace(tuned, **values) for name, values in ABLATIONS.items()}
    records = experiment.run_seeded(rows)
    stats = {name: summarize(runs) for name, runs in records.items()}

    same = [
        name
        for name, config in rows.items()
        if name != "PMTRec (full)" and config == rows["PMTRec (full)"]
    ]
    notes = (
        f" The tuned values make {', '.join(same)} the same configuration as the full "
        "method (the same runs)."
        if same
        else ""
    )
    body = (
        f"Test split, mean ± std (sample, n - 1) over seeds {', '.join(map(str, seeds))}; "
        f"{experiment.protocol()}; "
        f"full PMTRec is table2's tuned configuration (lr={tuned.lr:g}, weight decay="
        f"{tuned.weight_decay:g}, alpha={tuned.alpha:g}, tau={tuned.tau:g}).{notes}\n\n"
        + stats_table(stats, HEADLINE, first="variant")
        + "\n![ablation](ablation.png)\n"
    )
    figure = bars_figure(
        list(stats),
        {
            f"test {metric}": (
                [s[metric]["mean"] for s in stats.values()],
                [s[metric]["std"] for s in stats.values()],
            )
            for metric in ("recall@20", "ndcg@20")
        },
        title=f"PMTRec ablation on {experiment.source.name} (mean ± std over seeds)",
        ylabel="test metric",
    )
    all_runs = tuning.records + [r for runs in records.values() for r in runs]
    return Artefact(
        name="ablation",
        title=ARTEFACT_TITLES["ablation"],
        budget=(
            f"full PMTRec from table2's tuning (B = {experiment.budget} validation runs, seed "
            f"{experiment.tuning_seed}); every variant on seeds {', '.join(map(str, seeds))} "
            f"({len({r['key'] for r in all_runs})} distinct runs)"
        ),
        body=body,
        data=stats,
        runs=all_runs,
        figures={"ablation": figure},
    )
