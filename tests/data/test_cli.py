"""The command lines on the new datasets: ``python -m trainer.data stats`` and the dataset
flags of ``python -m trainer.fit`` (bad input exits 2 and writes nothing)."""

import json

import pytest

from tests.data.conftest import write_text
from trainer.data.__main__ import main as stats_main
from trainer.fit import main as fit_main


def test_stats_unknown_dataset_exits_2_with_the_valid_names(capsys):
    assert stats_main(["stats", "netflix"]) == 2
    assert (
        "valid names: amazon-hin, beibei, csv, epinions, office, tmall, videogame"
        in capsys.readouterr().err
    )


def test_stats_of_a_csv(tmp_path, capsys):
    path = write_text(tmp_path / "r.csv", "ann,x,5\nann,y,4\nbo,x,2\nbo,z,5\n")
    pairs = write_text(tmp_path / "p.csv", "x,y\nx,nowhere\n")
    args = ["stats", "csv", "--interactions", str(path), "--item-pairs", str(pairs)]
    assert stats_main([*args, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["users"], stats["items"], stats["interactions_before_split"]) == (2, 3, 4)
    assert stats["link:item_pairs:pairs"] == 1
    assert stats["link:item_pairs:dropped:unknown_id"] == 1
    assert stats_main(args) == 0
    text = capsys.readouterr().out
    assert "auxiliary relations:" in text and "item_pairs:dropped:unknown_id" in text


def test_stats_prints_the_readme_counts(data_dir, capsys):
    args = ["stats", "amazon-hin", "--data-dir", str(data_dir), "--no-download"]
    assert stats_main(args) == 0
    out = capsys.readouterr().out
    assert "195,791" in out and "2,646" in out
    assert stats_main([*args, "--core", "5"]) == 0
    out = capsys.readouterr().out
    assert "2,746" in out and "195,773" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "csv"], "needs --interactions"),
        (["--dataset", "office", "--core", "5"], "'office' does not take --core"),
        (["--dataset", "csv", "--interactions", "no-such.csv"], "no-such.csv does not exist"),
        (
            ["--dataset", "csv", "--interactions", "BAD", "--core", "-1"],
            "--core must be in [0, 1000]",
        ),
    ],
)
def test_fit_dataset_flags_exit_2(tmp_path, capsys, args, message):
    bad = write_text(tmp_path / "bad.csv", "a,b,5\na,c\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    assert fit_main([*args, "--out", str(tmp_path / "bundle"), "--no-download"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "bundle").exists()


def test_fit_reports_a_malformed_row_with_its_line(tmp_path, capsys):
    bad = write_text(tmp_path / "bad.csv", "a,b,5\na,c\n")
    out = tmp_path / "bundle"
    assert fit_main(["--dataset", "csv", "--interactions", str(bad), "--out", str(out)]) == 2
    assert f"{bad}:2: wrong column count" in capsys.readouterr().err
    assert not out.exists()
