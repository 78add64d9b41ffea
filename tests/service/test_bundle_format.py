"""Bundle format 2: the optional ranking stage; format-1 bundles still load."""

from __future__ import annotations

import json

import pytest

from shared.bundle import (
    RANKER,
    BundleError,
    RankerSpec,
    check_objective_weights,
    load_bundle,
)
from tests.service.conftest import write_random_bundle
from tests.service.ranked_bundle import rewrite_with_ranker


def _rewrite_manifest(path, change) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def _ranked_bundle(path, **spec):
    fields = {"onnx": b"ranker-graph", "model": "mmoe", "objectives": ["buy", "cart"]}
    fields["target"] = "buy"
    fields.update(spec)
    # The arrays of a random bundle, written again with a ranker.
    loaded = load_bundle(write_random_bundle(path, "v", 0))
    return rewrite_with_ranker(loaded, path, "v-ranked", RankerSpec(**fields))


def test_a_format_1_bundle_loads_without_a_ranker(tmp_path):
    path = write_random_bundle(tmp_path / "b", "v", 0)
    _rewrite_manifest(path, lambda m: m.update(format_version=1))
    bundle = load_bundle(path)
    assert bundle.manifest["format_version"] == 1
    assert bundle.ranker is None and bundle.ranker_path is None


def test_a_ranker_round_trips_with_default_weights(tmp_path):
    bundle = load_bundle(_ranked_bundle(tmp_path / "b"))
    assert bundle.manifest["format_version"] == 2
    assert bundle.ranker_path == bundle.path / RANKER
    assert bundle.ranker_path.read_bytes() == b"ranker-graph"
    assert bundle.ranker["objectives"] == ["buy", "cart"]
    assert bundle.ranker["outputs"] == {"buy": "p_buy", "cart": "p_cart"}
    assert bundle.ranker["default_weights"] == {"buy": 1.0, "cart": 0.0}
    assert bundle.ranker["inputs"] == {"categorical": ["user", "item"], "numeric": []}


def test_a_corrupted_or_missing_ranker_file_is_refused(tmp_path):
    path = _ranked_bundle(tmp_path / "b")
    (path / RANKER).write_bytes(b"tampered")
    with pytest.raises(BundleError, match=r"ranker\.onnx is corrupted"):
        load_bundle(path)
    path = _ranked_bundle(tmp_path / "c")
    _rewrite_manifest(path, lambda m: m["files"].pop(RANKER))
    with pytest.raises(BundleError, match=r"no checksum for ranker\.onnx"):
        load_bundle(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(target="view"), "target"),
        (lambda r: r["default_weights"].update(buy=-1.0), "non-negative"),
        (lambda r: r["outputs"].pop("cart"), "one output per objective"),
        (lambda r: r.update(id_rows="raw"), "input mapping"),
    ],
)
def test_an_invalid_ranker_section_is_refused(tmp_path, change, message):
    path = _ranked_bundle(tmp_path / "b")
    _rewrite_manifest(path, lambda m: change(m["ranker"]))
    with pytest.raises(BundleError, match=message):
        load_bundle(path, verify=False)


def test_a_format_1_manifest_with_a_ranker_is_refused(tmp_path):
    path = _ranked_bundle(tmp_path / "b")
    _rewrite_manifest(path, lambda m: m.update(format_version=1))
    with pytest.raises(BundleError, match="format-1 bundle cannot carry a ranker"):
        load_bundle(path, verify=False)


def test_bad_ranker_specs_are_refused_when_writing(tmp_path):
    with pytest.raises(BundleError, match="target 'view'"):
        _ranked_bundle(tmp_path / "b", target="view")
    with pytest.raises(BundleError, match="distinct"):
        _ranked_bundle(tmp_path / "c", objectives=["buy", "buy"])
    with pytest.raises(BundleError, match="positive"):
        _ranked_bundle(tmp_path / "d", default_weights={"buy": 0.0})


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"view": 1.0}, "unknown objective.*'view'.*valid: buy, cart"),
        ({"buy": float("nan")}, "finite"),
        ({"buy": -0.5, "cart": 1.0}, "non-negative"),
        ({"buy": 0.0, "cart": 0.0}, "positive"),
    ],
)
def test_objective_weights_are_checked(weights, message):
    with pytest.raises(ValueError, match=message):
        check_objective_weights(weights, ["buy", "cart"])
    check_objective_weights({"buy": 1.0, "cart": 0.2}, ["buy", "cart"])
