"""The ranking experiments command: tuning, seeds, ablation, resumable records."""

from __future__ import annotations

import json

import pytest

from trainer.ranking import experiments
from trainer.ranking.experiments import read_records


def test_runs_are_recorded_once_and_reused_on_a_rerun(tiny_ranking, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 2)
    monkeypatch.setattr(experiments, "TUNING_GRID", ((3e-3, 1e-6), (1e-2, 1e-4)))
    records = tmp_path / "runs.jsonl"
    args = ["all", "--entries", "mmoe,drgrad", "--workers", "1", "--records", str(records)]
    assert experiments.main(args) == 0
    # 2 entries x 2 tuning points at seed 0, seeds 1 and 2 of the picked ones, and the
    # ablation's split and split_router variants (its "full" is the drgrad entry itself).
    recorded = read_records(records)
    assert len(recorded) == 2 * 2 + 2 * 2 + 2 * 3
    # The picked point's embedding L2 goes with it into the seeds and the ablation.
    picked = experiments.tuned_point("drgrad", recorded)
    for name in experiments.CENSUS_ABLATIONS:
        flags = experiments.ABLATIONS[name]
        config = experiments.tuning_config("drgrad", picked, 2, flags)
        assert config.ranker.embedding_l2 == picked[1]
        assert experiments.run_key(config) in recorded
    first = capsys.readouterr().out
    assert "| mmoe |" in first and "| split_router |" in first
    lines = records.read_text().count("\n")
    assert experiments.main(args) == 0
    assert records.read_text().count("\n") == lines  # nothing trained again
    assert capsys.readouterr().out == first


def test_unknown_entry_exits_2_with_the_valid_names(tmp_path, capsys):
    assert (
        experiments.main(["table", "--entries", "mmoe,nope", "--records", str(tmp_path / "r")]) == 2
    )
    assert "valid names" in capsys.readouterr().err


def test_the_default_numeric_mode_keeps_the_record_keys_and_others_differ():
    config = experiments.config_of("mmoe", 3e-3, 0)
    assert experiments.run_key(config) == experiments.run_key(config, "embedded")
    assert '"census_numeric"' not in experiments.run_key(config)
    assert experiments.run_key(config, "both") != experiments.run_key(config)


def test_tuning_reports_validation_and_trains_no_seed_beyond_0(
    tiny_ranking, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 1)
    records = tmp_path / "runs.jsonl"
    args = ["tuning", "--entries", "mmoe", "--workers", "1", "--records", str(records)]
    assert experiments.main(args) == 0
    assert len(read_records(records)) == len(experiments.TUNING_GRID)
    out = capsys.readouterr().out
    assert "val mean AUC" in out and "| mmoe | embedded | 0.01 | 0.0001 |" in out


def test_the_grid_keeps_the_keys_of_the_runs_made_before_embedding_l2_was_tuned():
    """The grid's default-L2 points are the runs the previous two-rate budget recorded."""
    for lr in experiments.LEARNING_RATES:
        before = experiments.config_of("stem", lr, 0)
        point = experiments.tuning_config("stem", (lr, before.ranker.embedding_l2))
        assert experiments.run_key(point, "both") == experiments.run_key(before, "both")
    assert len(set(experiments.TUNING_GRID)) == len(experiments.TUNING_GRID) == 6


@pytest.mark.parametrize(
    ("flag", "key", "default", "value"),
    [("--epochs", "epochs", 1, 3), ("--patience", "patience", experiments.PATIENCE, 4)],
)
def test_an_epoch_cap_or_a_patience_enters_the_keys_and_trains_its_own_runs(
    tiny_ranking, tmp_path, monkeypatch, capsys, flag, key, default, value
):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 1)
    monkeypatch.setattr(experiments, "TUNING_GRID", ((3e-3, 1e-6),))
    records = tmp_path / "runs.jsonl"
    base = ["tuning", "--entries", "mmoe", "--workers", "1", "--records", str(records)]
    assert experiments.main(base) == 0
    assert experiments.main([*base, flag, str(value)]) == 0
    recorded = read_records(records)
    assert len(recorded) == 2
    assert sorted(json.loads(k)[key] for k in recorded) == [default, value]
    # The default keeps the keys recorded before the option existed.
    assert getattr(experiments.config_of("mmoe", 3e-3, 0), key) == default
    passed = experiments.tuning_config("mmoe", (3e-3, 1e-6), **{key: value})
    assert getattr(passed, key) == value
    capsys.readouterr()
    assert experiments.main([*base, flag, "0"]) == 2
    assert flag in capsys.readouterr().err


def test_own_option_stage_adds_two_runs_per_row_and_the_best_of_three_on_validation_trains_on(
    tiny_ranking, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 2)
    monkeypatch.setattr(experiments, "TUNING_GRID", ((3e-3, 1e-6), (1e-2, 1e-4)))
    monkeypatch.setattr(experiments, "OWN_OPTIONS", {"mmoe": ("num_experts", (2, 3))})
    records = tmp_path / "runs.jsonl"
    args = ["table", "--entries", "mmoe", "--workers", "1", "--records", str(records)]
    assert experiments.main([*args, "--own-option"]) == 0
    recorded = read_records(records)
    # 2 grid points, 2 own-option runs at the best one, seeds 1 and 2 of the pick.
    assert len(recorded) == 2 + 2 + 2
    point = experiments.tuned_point("mmoe", recorded)
    candidates = [
        experiments.tuning_config("mmoe", point),
        *experiments.own_option_configs("mmoe", point),
    ]
    scores = [recorded[experiments.run_key(c)]["val"]["mean_auc"] for c in candidates]
    best = candidates[scores.index(max(scores))]
    options = experiments.picked_options("mmoe", point, recorded)
    assert options.get("num_experts", 8) == best.ranker.num_experts
    for seed in experiments.SEEDS:
        assert experiments.run_key(experiments.tuning_config("mmoe", point, seed, options)) in (
            recorded
        )
    label = "| mmoe |" if not options else f"| mmoe (num_experts={options['num_experts']}) |"
    assert label in capsys.readouterr().out


def _best_epochs(entry: str, printed: str) -> str:
    """The "best epochs" cell (one per seed, a/b/c) of the table row of ``entry``."""
    row = next(line for line in printed.splitlines() if line.startswith(f"| {entry} |"))
    return row.rsplit("|", 2)[-2]


def test_more_seeds_add_runs_and_the_default_reuses_the_first_three(
    tiny_ranking, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 1)
    monkeypatch.setattr(experiments, "TUNING_GRID", ((3e-3, 1e-6),))
    records = tmp_path / "runs.jsonl"
    args = ["table", "--entries", "mmoe", "--workers", "1", "--records", str(records)]
    assert experiments.main([*args, "--seeds", "5"]) == 0
    recorded = read_records(records)
    assert sorted(json.loads(k)["seed"] for k in recorded) == [0, 1, 2, 3, 4]
    five = capsys.readouterr().out
    assert experiments.main(args) == 0
    assert len(read_records(records)) == 5  # the default's 3 seeds are among them
    three = capsys.readouterr().out
    assert _best_epochs("mmoe", five).count("/") == 4
    assert _best_epochs("mmoe", three).count("/") == 2
    assert experiments.main([*args, "--seeds", "0"]) == 2
