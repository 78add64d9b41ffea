"""``sensitivity``: PMTRec's alpha and tau swept around the tuned configuration (Figure 5)."""

from __future__ import annotations

from dataclasses import replace

from trainer.experiments.experiment import Experiment
from trainer.experiments.figures import sensitivity_figure
from trainer.experiments.reports import ARTEFACT_TITLES, Artefact
from trainer.experiments.tables import label, markdown_table, mean_std, summarize

# The paper's ranges: alpha in 1.00..1.20 (step 0.04 here), tau from 10 down to 1e-4.
SWEEPS: dict[str, tuple[float, ...]] = {
    "alpha": tuple(round(1.0 + 0.04 * step, 2) for step in range(6)),
    "tau": (10.0, 1.0, 1e-1, 1e-2, 1e-3, 1e-4),
}
PLOTTED: tuple[str, ...] = ("recall@20", "ndcg@20")
PLOT_LABELS = {"recall@20": "Recall@20", "ndcg@20": "NDCG@20"}


def sensitivity(experiment: Experiment) -> Artefact:
    seeds = experiment.seeds
    points = sum(len(values) for values in SWEEPS.values())
    experiment.announce(
        "sensitivity",
        experiment.budget + points * len(seeds),
        f"pmtrec tuning ({experiment.budget} runs, shared with table2) + {points} values x "
        f"{len(seeds)} seeds, at most",
        experiment.tuning_configs("pmtrec"),
    )
    tuning = experiment.tune(["pmtrec"])["pmtrec"]
    tuned = tuning.config
    rows = {
        (parameter, value): replace(tuned, **{parameter: value})
        for parameter, values in SWEEPS.items()
        for value in values
    }
    records = experiment.run_seeded(rows)

    data, figures, body = {}, {}, []
    for parameter, values in SWEEPS.items():
        fixed = "tau" if parameter == "alpha" else "alpha"
        fixed_text = (
            f"{fixed}={getattr(tuned, fixed):g}, lr={tuned.lr:g}, "
            f"weight decay={tuned.weight_decay:g}"
        )
        summaries = [
            {split: summarize(records[(parameter, v)], split) for split in ("val", "test")}
            for v in values
        ]
        data[parameter] = {
            "fixed": {
                fixed: getattr(tuned, fixed),
                "lr": tuned.lr,
                "weight_decay": tuned.weight_decay,
            },
            "points": [
                {"value": value, "val": summary["val"], "test": summary["test"]}
                for value, summary in zip(values, summaries)
            ],
        }
        series = {
            PLOT_LABELS[metric]: {
                split: (
                    [s[split][metric]["mean"] for s in summaries],
                    [s[split][metric]["std"] for s in summaries],
                )
                for split in ("val", "test")
            }
            for metric in PLOTTED
        }
        figures[f"sensitivity_{parameter}"] = sensitivity_figure(
            parameter,
            values,
            series,
            title=f"PMTRec sensitivity to {parameter} on {experiment.source.name} "
            f"({fixed_text}; mean ± std over seeds)",
            log_x=parameter == "tau",
        )
        table = [
            [f"{value:g}", *(mean_std(s[split][m]) for split in ("val", "test") for m in PLOTTED)]
            for value, s in zip(values, summaries)
        ]
        header = [parameter] + [f"{split} {label(m)}" for split in ("val", "test") for m in PLOTTED]
        body += [
            f"## {parameter} ({fixed_text})\n\n",
            markdown_table(header, table),
            f"\n![{parameter}](sensitivity_{parameter}.png)\n\n",
        ]
    all_runs = tuning.records + [r for runs in records.values() for r in runs]
    intro = (
        f"Mean ± std (sample, n - 1) over seeds {', '.join(map(str, seeds))}. Each sweep "
        f"changes one hyper-parameter of table2's tuned PMTRec (alpha={tuned.alpha:g}, "
        f"tau={tuned.tau:g}) and keeps the rest; {experiment.protocol()}.\n\n"
    )
    return Artefact(
        name="sensitivity",
        title=ARTEFACT_TITLES["sensitivity"],
        budget=(
            f"the tuned PMTRec from table2's tuning (B = {experiment.budget} validation runs, "
            f"seed {experiment.tuning_seed}); every swept value on seeds "
            f"{', '.join(map(str, seeds))} ({len({r['key'] for r in all_runs})} distinct runs)"
        ),
        body=intro + "".join(body),
        data=data,
        runs=all_runs,
        figures=figures,
    )
