"""table2 on the tiny dataset: JSON shape, equal budgets in practice, paper numbers, resuming."""

import json
from dataclasses import replace

from trainer.experiments import run_artefact
from trainer.experiments.runs import RunStore
from trainer.experiments.tables import METRICS


def test_table2_json_has_mean_and_std_of_every_metric_per_method(make_experiment):
    experiment = make_experiment()
    run_artefact("table2", experiment)
    data = json.loads((experiment.directory / "table2.json").read_text())
    assert list(data) == list(experiment.methods)
    for method, metrics in data.items():
        assert set(metrics) == set(METRICS), method
        for stat in metrics.values():
            assert set(stat) == {"mean", "std"}
            assert 0.0 <= stat["mean"] <= 1.0 and stat["std"] >= 0.0
    assert data["pmtrec"]["recall@20"]["mean"] > 0


def test_table2_spends_the_same_budget_on_every_method(make_experiment):
    experiment = make_experiment(budget=3, seeds=(0,))
    run_artefact("table2", experiment)
    records = RunStore(experiment.directory / "runs.jsonl").records.values()
    per_method = {m: sum(r["config"]["method"] == m for r in records) for m in experiment.methods}
    assert per_method == dict.fromkeys(experiment.methods, 3)
    markdown = (experiment.directory / "table2.md").read_text()
    assert "B = 3 validation runs per method" in markdown
    assert markdown.count("**chosen**") == len(experiment.methods)


def test_table2_puts_the_papers_numbers_beside_ours(make_experiment, tiny_dataset):
    experiment = make_experiment(dataset=replace(tiny_dataset, name="office"), seeds=(0,))
    run_artefact("table2", experiment)
    markdown = (experiment.directory / "table2.md").read_text()
    assert "Beside the paper" in markdown
    pmtrec_row = next(line for line in markdown.splitlines() if line.startswith("| pmtrec | 0."))
    cells = [cell.strip() for cell in pmtrec_row.strip("|").split("|")]
    # method, then (ours, paper) for R@20, N@20, R@40, N@40.
    assert cells[2::2] == ["0.0905", "0.0473", "0.1474", "0.0619"]
    assert "| cagrad |" in markdown and "| - |" in markdown  # unknown paper cells print "-"
    assert "PMTRec ranks first" in markdown


def test_a_second_invocation_runs_nothing_and_writes_identical_files(make_experiment):
    first = make_experiment()
    written = run_artefact("table2", first)
    before = {path: path.read_bytes() for path in written}
    store_before = (first.directory / "runs.jsonl").read_bytes()
    assert first.executor.new_runs > 0

    second = make_experiment()
    run_artefact("table2", second)
    assert second.executor.new_runs == 0
    assert second.executor.reused == first.executor.new_runs
    assert (first.directory / "runs.jsonl").read_bytes() == store_before
    assert {path: path.read_bytes() for path in written} == before


def test_an_interrupted_command_resumes_where_it_stopped(make_experiment):
    first = make_experiment(seeds=(0,))
    run_artefact("table2", first)
    store = first.directory / "runs.jsonl"
    lines = store.read_text().splitlines()
    # Keep two runs and half a line, as a process killed mid-write leaves the file.
    store.write_text("\n".join(lines[:2]) + "\n" + lines[2][: len(lines[2]) // 2])

    second = make_experiment(seeds=(0,))
    run_artefact("table2", second)
    assert second.executor.reused == 2
    assert second.executor.new_runs == len(lines) - 2


def test_progress_lines_count_runs_and_give_an_eta(make_experiment):
    experiment = make_experiment(seeds=(0,), methods=("bpr", "ew"))
    run_artefact("table2", experiment)
    planned, *finished = experiment.lines
    assert "4 runs planned" in planned
    assert [line.split("]")[0] for line in finished] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert all("ETA" in line for line in finished)
