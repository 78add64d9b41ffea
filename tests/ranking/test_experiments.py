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
