"""The ranking experiments command: tuning, seeds, ablation, resumable records."""

from __future__ import annotations

from trainer.ranking import experiments
from trainer.ranking.experiments import read_records


def test_runs_are_recorded_once_and_reused_on_a_rerun(tiny_ranking, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiments, "_DATASET", tiny_ranking)
    monkeypatch.setattr(experiments, "EPOCHS", 2)
    records = tmp_path / "runs.jsonl"
    args = ["all", "--entries", "mmoe,drgrad", "--workers", "1", "--records", str(records)]
    assert experiments.main(args) == 0
    # 2 entries x 2 learning rates at seed 0, seeds 1 and 2 of the picked ones, and the
    # ablation's split and split_router variants (its "full" is the drgrad entry itself).
    assert len(read_records(records)) == 2 * 2 + 2 * 2 + 2 * 3
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
    assert len(read_records(records)) == len(experiments.LEARNING_RATES)
    assert "val mean AUC" in capsys.readouterr().out
