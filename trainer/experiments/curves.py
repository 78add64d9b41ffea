"""``curves``: validation Recall@20 per epoch of every method's tuned run (Figure 6)."""

from __future__ import annotations

from trainer.experiments.experiment import Experiment
from trainer.experiments.figures import curves_figure
from trainer.experiments.reports import ARTEFACT_TITLES, Artefact
from trainer.experiments.runs import own_hyperparameters
from trainer.experiments.tables import markdown_table


def curves(experiment: Experiment) -> Artefact:
    methods = list(experiment.methods)
    tuning_configs = [c for m in methods for c in experiment.tuning_configs(m)]
    experiment.announce(
        "curves",
        len(methods) * experiment.budget,
        f"table2's tuning: {len(methods)} methods x budget {experiment.budget} on seed "
        f"{experiment.tuning_seed}",
        tuning_configs,
    )
    tunings = experiment.tune(methods)
    data, rows = {}, []
    for method, tuning in tunings.items():
        record, config = tuning.best, tuning.config
        own = {name: getattr(config, name) for name in own_hyperparameters(method)}
        data[method] = {
            "lr": config.lr,
            "weight_decay": config.weight_decay,
            **own,
            "best_epoch": record["best_epoch"],
            "val_recall@20": record["curve"],
        }
        rows.append(
            [
                method,
                f"{config.lr:g}",
                f"{config.weight_decay:g}",
                ", ".join(f"{k}={v:g}" for k, v in own.items()) or "-",
                str(record["best_epoch"]),
                str(record["epochs_run"]),
                f"{max(record['curve']):.4f}",
            ]
        )
    figure = curves_figure(
        {method: values["val_recall@20"] for method, values in data.items()},
        title=f"Validation Recall@20 per epoch on {experiment.source.name} "
        f"(tuned configurations, seed {experiment.tuning_seed})",
    )
    header = ["method", "lr", "weight decay", "own", "best epoch", "epochs run", "best val R@20"]
    body = (
        f"Each method's tuned run (table2's tuning, seed {experiment.tuning_seed}): validation "
        f"Recall@20 after every epoch until early stopping ({experiment.protocol()}).\n\n"
        + markdown_table(header, rows)
        + "\n![curves](curves.png)\n"
    )
    runs = [r for t in tunings.values() for r in t.records]
    return Artefact(
        name="curves",
        title=ARTEFACT_TITLES["curves"],
        budget=(
            f"table2's tuning runs (B = {experiment.budget} per method, seed "
            f"{experiment.tuning_seed}); the curve is the chosen run's"
        ),
        body=body,
        data=data,
        runs=runs,
        figures={"curves": figure},
    )
