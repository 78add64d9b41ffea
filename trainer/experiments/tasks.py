"""``tasks``: the paper's Table 3, BPR alone and with each auxiliary task, per encoder."""

from __future__ import annotations

from dataclasses import replace

from trainer.encoders import ENCODERS
from trainer.experiments.experiment import Experiment
from trainer.experiments.reports import ARTEFACT_TITLES, Artefact
from trainer.experiments.tables import HEADLINE, label, markdown_table, mean_std, summarize

# MF first, then the graph encoders in the paper's order.
TASK_ENCODERS: tuple[str, ...] = tuple(e for e in ("mf", "ngcf", "lightgcn") if e in ENCODERS)


def task_variants(auxiliary: tuple[str, ...]) -> list[tuple[str, ...]]:
    """BPR alone, BPR with each auxiliary task, BPR with all of them (when more than one)."""
    variants: list[tuple[str, ...]] = [(), *((task,) for task in auxiliary)]
    if len(auxiliary) > 1:
        variants.append(tuple(auxiliary))
    return variants


def variant_name(tasks: tuple[str, ...]) -> str:
    return "+".join(("bpr", *tasks))


def variant_label(tasks: tuple[str, ...], auxiliary: tuple[str, ...]) -> str:
    if not tasks:
        return "BPR alone"
    numbers = ",".join(f"T{auxiliary.index(t) + 1}" for t in tasks)
    return f"BPR + {numbers} ({', '.join(tasks)})"


def tasks(experiment: Experiment) -> Artefact:
    auxiliary = tuple(experiment.source.auxiliary_tasks)
    variants = task_variants(auxiliary)
    seeds = experiment.seeds
    budget = experiment.budget
    experiment.announce(
        "tasks",
        2 * budget + len(TASK_ENCODERS) * len(variants) * len(seeds),
        f"tuning of bpr and pmtrec ({budget} runs each, shared with table2) + "
        f"{len(TASK_ENCODERS)} encoders x {len(variants)} task sets x {len(seeds)} seeds, "
        "at most",
        [c for m in ("bpr", "pmtrec") for c in experiment.tuning_configs(m)],
    )
    tunings = experiment.tune(["bpr", "pmtrec"])
    rows = {
        (encoder, variant): replace(
            tunings["pmtrec" if variant else "bpr"].config,
            encoder=encoder,
            auxiliary_tasks=variant or auxiliary,
        )
        for encoder in TASK_ENCODERS
        for variant in variants
    }
    records = experiment.run_seeded(rows)
    stats = {row: summarize(runs) for row, runs in records.items()}

    table = []
    for (encoder, variant), mine in stats.items():
        alone = stats[(encoder, ())]["recall@20"]["mean"]
        gain = mine["recall@20"]["mean"] / alone - 1 if alone else float("nan")
        table.append(
            [
                encoder,
                variant_label(variant, auxiliary),
                "pmtrec" if variant else "bpr",
                *(mean_std(mine[m]) for m in HEADLINE),
                "" if not variant else f"{gain:+.1%}",
            ]
        )
    header = ["encoder", "tasks", "method", *map(label, HEADLINE), "R@20 vs BPR alone"]
    pmtrec, bpr = tunings["pmtrec"].config, tunings["bpr"].config
    body = (
        f"Test split, mean ± std (sample, n - 1) over seeds {', '.join(map(str, seeds))}; "
        f"{experiment.protocol()}. "
        f"T{', T'.join(str(i + 1) for i in range(len(auxiliary)))} = "
        f"{', '.join(auxiliary)}. Rows with auxiliary tasks combine them with PMTRec "
        f"(lr={pmtrec.lr:g}, weight decay={pmtrec.weight_decay:g}, alpha={pmtrec.alpha:g}, "
        f"tau={pmtrec.tau:g}); BPR alone is method bpr (lr={bpr.lr:g}, weight decay="
        f"{bpr.weight_decay:g}). Both were tuned on MF (table2's tuning runs) and are used "
        "unchanged for the graph encoders, which are therefore not tuned for themselves.\n\n"
        + markdown_table(header, table)
    )
    all_runs = [r for t in tunings.values() for r in t.records]
    all_runs += [r for runs in records.values() for r in runs]
    return Artefact(
        name="tasks",
        title=ARTEFACT_TITLES["tasks"],
        budget=(
            f"configurations from table2's tuning of bpr and pmtrec (B = {budget} validation "
            f"runs each, MF, seed {experiment.tuning_seed}); every row on seeds "
            f"{', '.join(map(str, seeds))} ({len({r['key'] for r in all_runs})} distinct runs)"
        ),
        body=body,
        data={
            encoder: {variant_name(variant): stats[(encoder, variant)] for variant in variants}
            for encoder in TASK_ENCODERS
        },
        runs=all_runs,
    )
