"""tasks, ablation, sensitivity and curves on the tiny dataset, sharing table2's runs."""

import json

from trainer.experiments import run_artefact
from trainer.experiments.runs import RunStore
from trainer.experiments.sensitivity import SWEEPS, sensitivity


def test_curves_reuse_table2s_tuning_runs(make_experiment):
    run_artefact("table2", make_experiment())
    experiment = make_experiment()
    written = run_artefact("curves", experiment)
    assert experiment.executor.new_runs == 0
    png = experiment.directory / "curves.png"
    assert png in written and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((experiment.directory / "curves.json").read_text())
    assert list(data) == list(experiment.methods)
    store = RunStore(experiment.directory / "runs.jsonl").records.values()
    assert any(record["curve"] == data["pmtrec"]["val_recall@20"] for record in store)
    assert all(len(values["val_recall@20"]) >= 1 for values in data.values())


def test_tasks_table_has_four_task_sets_per_encoder(make_experiment):
    experiment = make_experiment(seeds=(0,), budget=1, max_epochs=1)
    run_artefact("tasks", experiment)
    data = json.loads((experiment.directory / "tasks.json").read_text())
    assert list(data) == ["mf", "ngcf", "lightgcn"]
    for variants in data.values():
        assert list(variants) == [
            "bpr",
            "bpr+align_uniform",
            "bpr+rating",
            "bpr+align_uniform+rating",
        ]
        assert set(variants["bpr+rating"]["recall@20"]) == {"mean", "std"}
    records = RunStore(experiment.directory / "runs.jsonl").records.values()
    tasks_run = {(r["config"]["encoder"], tuple(r["config"]["auxiliary_tasks"])) for r in records}
    assert ("ngcf", ("rating",)) in tasks_run and ("lightgcn", ("align_uniform",)) in tasks_run


def test_ablation_turns_focusing_and_balancing_off(make_experiment):
    experiment = make_experiment(seeds=(0,), budget=3, max_epochs=1)
    written = run_artefact("ablation", experiment)
    data = json.loads((experiment.directory / "ablation.json").read_text())
    assert list(data) == [
        "PMTRec (full)",
        "no focusing (alpha=1)",
        "no balancing (tau=1)",
        "neither (alpha=1, tau=1)",
    ]
    records = RunStore(experiment.directory / "runs.jsonl").records.values()
    taus = {r["config"]["tau"] for r in records if r["config"]["method"] == "pmtrec"}
    assert 1.0 in taus
    assert (experiment.directory / "ablation.png") in written


def test_sensitivity_sweeps_alpha_and_tau_with_readable_figures(make_experiment):
    experiment = make_experiment(seeds=(0,), budget=1, max_epochs=1)
    artefact = sensitivity(experiment)
    assert [p["value"] for p in artefact.data["alpha"]["points"]] == list(SWEEPS["alpha"])
    assert [p["value"] for p in artefact.data["tau"]["points"]] == list(SWEEPS["tau"])
    assert SWEEPS["alpha"] == (1.0, 1.04, 1.08, 1.12, 1.16, 1.2)
    for parameter in ("alpha", "tau"):
        figure = artefact.figures[f"sensitivity_{parameter}"]
        assert parameter in figure.get_suptitle()
        for axes in figure.axes:
            assert axes.get_xlabel() == parameter and axes.get_ylabel() in ("Recall@20", "NDCG@20")
            assert {t.get_text() for t in axes.get_legend().get_texts()} == {"val", "test"}
            assert axes.get_xscale() == ("log" if parameter == "tau" else "linear")
    written = run_artefact("sensitivity", experiment)
    for parameter in ("alpha", "tau"):
        png = experiment.directory / f"sensitivity_{parameter}.png"
        assert png in written and png.stat().st_size > 1000
    markdown = (experiment.directory / "sensitivity.md").read_text()
    assert "- Command: `python -m trainer.experiments (test)`" in markdown
    assert "CPU cores" in markdown and "Wall time" in markdown
