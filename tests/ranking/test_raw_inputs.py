"""The ranking bundle's raw-sample mapping (shared/ranking_inputs.py) in the Census numeric
modes, and ``python -m trainer.rank --numeric``."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest
import torch

from shared.ranking_inputs import encode_samples
from tests.ranking.test_census import _row
from trainer.rank import main
from trainer.ranking.data.census import FIELDS, build_census
from trainer.ranking.export import RANKER_ONNX, VOCABULARIES, export_ranking_bundle
from trainer.ranking.models import RankerConfig, build_ranker


def _rows(count: int) -> list[list[str]]:
    rows = [_row(i, "Divorced", "50000+." if i % 4 == 0 else "- 50000.") for i in range(count)]
    for i, row in enumerate(rows):
        row[FIELDS.index("capital_gains")] = str(100 * (i % 7))
    return rows


@pytest.mark.parametrize("numeric", ["embedded", "categorical", "both"])
def test_raw_rows_through_the_bundle_mapping_give_the_models_inputs_and_onnx_parity(
    numeric, tmp_path
):
    train, test = _rows(40), _rows(12)
    dataset = build_census(train, test, numeric=numeric)
    torch.manual_seed(0)
    model = build_ranker("stem", dataset.schema, RankerConfig(dim=4, expert_dims=(8,)))
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.1)
    path = export_ranking_bundle(model, dataset, tmp_path / "b", {"test": {}}, {})
    mapping = json.loads((path / VOCABULARIES).read_text())
    raw = [dict(zip(FIELDS, row)) for row in train]
    categorical, numbers = encode_samples(mapping, raw)
    np.testing.assert_array_equal(categorical, dataset.train.categorical)
    np.testing.assert_allclose(numbers, dataset.train.numeric, atol=1e-6)
    if numeric != "embedded":
        assert {
            "name": "age_value",
            "kind": "categorical",
            "field": "age",
            "transform": "none",
        } in (mapping["inputs"])
    if numeric != "categorical":
        assert {
            "name": "capital_gains",
            "kind": "numeric",
            "field": "capital_gains",
            "transform": "log1p",
        } in mapping["inputs"]
    session = onnxruntime.InferenceSession(str(path / RANKER_ONNX))
    outputs = session.run(None, {"categorical": categorical, "numeric": numbers})
    expected = model.predict(torch.from_numpy(categorical), torch.from_numpy(numbers))
    for t, output in enumerate(outputs):
        np.testing.assert_allclose(output, expected[:, t].numpy(), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="sample 0: missing field 'age'"):
        encode_samples(mapping, [{k: v for k, v in raw[0].items() if k != "age"}])


@pytest.mark.real_data
def test_rank_cli_numeric_mode_goes_into_the_bundle(data_dir, tmp_path, capsys):
    out = tmp_path / "bundle"
    args = ["--dataset", "census", "--data-dir", str(data_dir), "--limit", "400"]
    args += ["--epochs", "1", "--no-progress", "--out", str(out), "--model", "mmoe"]
    assert main([*args, "--numeric", "categorical"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["hyperparameters"]["census_numeric"] == "categorical"
    assert manifest["schema"]["numeric"] == []
    assert main([*args, "--overwrite"]) == 0  # the default: both
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["hyperparameters"]["census_numeric"] == "both"
    assert len(manifest["schema"]["numeric"]) == 7


def test_numeric_with_a_csv_dataset_exits_2(tmp_path, capsys):
    args = ["--dataset", "csv", "--samples", "s.csv", "--schema", "s.json", "--numeric", "both"]
    code = main([*args, "--out", str(tmp_path / "b")])
    assert code == 2
    assert "error: --numeric goes with --dataset census" in capsys.readouterr().err
