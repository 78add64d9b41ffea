"""Bring your own samples: the CSV + schema loader and the CLI on it."""

from __future__ import annotations

import json

import pytest

from trainer.data.bad_rows import MalformedRowError
from trainer.rank import main
from trainer.ranking.data.samples_csv import SchemaError, load_samples_csv
from trainer.ranking.export import verify_ranking_bundle

HEADER = "user,category,device,price,click,buy"


def _write(tmp_path, bad_rows: list[str] = (), rows: int = 120):
    lines = [HEADER]
    categories = ["garden tools", "books", "shoes, red", "toys"]
    for i in range(rows):
        category = categories[i % 4]
        click = int(i % 4 in (2, 3) or i % 7 == 0)
        lines.append(
            f'u{i % 9},"{category}",{"ios" if i % 3 else "web"},{i % 50 + 0.5},'
            f"{click},{click * (i % 2)}"
        )
    for offset, row in enumerate(bad_rows):
        lines.insert(10 + offset, row)
    samples = tmp_path / "samples.csv"
    samples.write_text("\n".join(lines) + "\n")
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps({"categorical": ["category", "device"], "numeric": ["price"],
                    "labels": ["click", "buy"], "user_id": "user"})
    )  # fmt: skip
    return samples, schema


BAD = ["u1,books,ios,cheap,1,0", "u1,books,ios,2.5,1", "u2,toys,web,3.0,2,0"]


def test_string_categories_load_with_a_vocabulary_from_training(tmp_path):
    samples, schema = _write(tmp_path)
    dataset = load_samples_csv(samples, schema)
    assert dataset.schema.categorical == ("user", "category", "device")
    assert dataset.schema.user_feature == "user"
    assert set(dataset.vocabularies["category"]) == {"garden tools", "books", "shoes, red", "toys"}
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == 120
    assert dataset.train.categorical.min() >= 0


def test_a_malformed_row_stops_the_load_with_file_and_line(tmp_path):
    samples, schema = _write(tmp_path, BAD)
    with pytest.raises(MalformedRowError) as error:
        load_samples_csv(samples, schema)
    assert f"{samples}:11: bad number: column price is 'cheap'" in str(error.value)


def test_malformed_rows_skipped_and_counted_by_reason(tmp_path):
    samples, schema = _write(tmp_path, BAD)
    dataset = load_samples_csv(samples, schema, skip_bad_rows=True)
    assert dataset.stats()["samples:bad_rows_skipped"] == 3
    assert dataset.stats()["samples:bad_rows_skipped:bad label"] == 1
    assert dataset.stats()["samples:bad_rows_skipped:wrong column count"] == 1
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == 120


def test_unknown_schema_columns_name_the_valid_ones(tmp_path):
    samples, schema = _write(tmp_path)
    schema.write_text(json.dumps({"categorical": ["colour"], "labels": ["click"]}))
    with pytest.raises(SchemaError, match="valid names: user, category, device, price"):
        load_samples_csv(samples, schema)
    schema.write_text(json.dumps({"categoricals": ["category"], "labels": ["click"]}))
    with pytest.raises(SchemaError, match="unknown schema keys"):
        load_samples_csv(samples, schema)


def test_cli_exits_2_on_unknown_columns_with_the_valid_names(tmp_path, capsys):
    samples, schema = _write(tmp_path)
    schema.write_text(json.dumps({"categorical": ["colour"], "labels": ["click"]}))
    args = ["--dataset", "csv", "--samples", str(samples), "--schema", str(schema)]
    assert main([*args, "--out", str(tmp_path / "b"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "colour" in err and "valid names: user, category" in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_cli_trains_on_own_samples_end_to_end(tmp_path, capsys):
    samples, schema = _write(tmp_path, BAD)
    args = ["--dataset", "csv", "--samples", str(samples), "--schema", str(schema)]
    out = tmp_path / "bundle"
    assert main([*args, "--out", str(out), "--no-progress"]) == 2  # malformed rows
    assert "samples.csv:11" in capsys.readouterr().err
    code = main(
        [*args, "--skip-bad-rows", "--model", "drgrad", "--epochs", "2", "--out", str(out),
         "--no-progress", "--option", "expert_dims=[16]"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "click" in printed and "test gauc" in printed
    manifest = verify_ranking_bundle(out)
    assert manifest["schema"]["user_feature"] == "user"
    assert manifest["dataset_stats"]["samples:bad_rows_skipped"] == 3


def test_cli_refuses_a_bad_option_and_unknown_model(tmp_path, capsys):
    samples, schema = _write(tmp_path)
    args = ["--dataset", "csv", "--samples", str(samples), "--schema", str(schema)]
    assert main([*args, "--model", "nope", "--out", str(tmp_path / "b")]) == 2
    assert "valid names" in capsys.readouterr().err
    assert main([*args, "--option", "levels", "--out", str(tmp_path / "b")]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
