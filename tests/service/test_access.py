"""Issue 13 item 13: secrets long enough to be secrets, and what stays public with a key.

Decisions (docs/service.md, "Authentication"): an admin token or API key shorter than 16
characters (surrounding spaces do not count) is a start-up error; empty means unset. With
PMTREC_API_KEY set, /models, the evaluations listing and /metrics take the client key or the
admin token (/metrics is public again with PMTREC_PUBLIC_METRICS); bundle paths are shown to
admins only; /healthz and /readyz stay open for probes.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.__main__ import main as service_main
from service.app import create_app
from shared.settings import Settings, get_settings
from tests.service.conftest import ADMIN, API_KEY, CLIENT, make_settings


@pytest.mark.parametrize("field", ["admin_token", "api_key"])
@pytest.mark.parametrize("value", ["   ", "short", " fifteen-chars!! "[:16]])
def test_short_secrets_are_refused_with_the_setting_named(field, value):
    with pytest.raises(ValidationError) as error:
        Settings(**{field: value})
    message = str(error.value)
    assert f"PMTREC_{field.upper()} must be at least 16 characters" in message


def test_empty_secrets_are_unset_and_surrounding_spaces_do_not_count():
    assert Settings(admin_token="", api_key="").admin_token is None
    settings = Settings(admin_token="  sixteen-chars-ok  ")
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "sixteen-chars-ok"


def test_the_service_refuses_to_start_with_a_short_token(monkeypatch, capsys):
    monkeypatch.setenv("PMTREC_ADMIN_TOKEN", "   x   ")

    def serve(*_args, **_kwargs) -> None:
        pytest.fail("the service started with a 1-character admin token")

    monkeypatch.setattr("service.__main__.uvicorn.run", serve)
    get_settings.cache_clear()
    try:
        assert service_main([]) == 2
    finally:
        get_settings.cache_clear()
    error = capsys.readouterr().err
    assert "PMTREC_ADMIN_TOKEN must be at least 16 characters" in error
    assert "Traceback" not in error


def test_with_a_key_models_evaluations_and_metrics_are_not_public(
    database_url, bundle_root, bundle_v1
):
    settings = make_settings(database_url, bundle_root, api_key=API_KEY)
    reads = ["/models", "/models/synthetic-v1", "/models/synthetic-v1/evaluations", "/metrics"]
    with TestClient(create_app(settings, bootstrap_bundle=bundle_v1)) as client:
        for path in reads:
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers={"X-API-Key": "x" * 20}).status_code == 401, path
            assert client.get(path, headers=CLIENT).status_code == 200, path
            assert client.get(path, headers=ADMIN).status_code == 200, path
        for probe in ("/healthz", "/readyz"):
            assert client.get(probe).status_code == 200, probe
        # Bundle paths (absolute server paths) only for admins.
        listed = client.get("/models", headers=CLIENT).json()["versions"]
        assert [v["path"] for v in listed] == [None]
        assert client.get("/models/synthetic-v1", headers=CLIENT).json()["path"] is None
        admin_view = client.get("/models", headers=ADMIN).json()["versions"]
        assert admin_view[0]["path"] == str(bundle_v1.resolve())
    public = make_settings(database_url, bundle_root, api_key=API_KEY, public_metrics=True)
    with TestClient(create_app(public, bootstrap_bundle=bundle_v1)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get("/models").status_code == 401


def test_without_a_key_reads_stay_open_but_paths_stay_hidden(client, bundle_v1):
    assert client.get("/metrics").status_code == 200
    listed = client.get("/models").json()["versions"]
    assert listed[0]["path"] is None
    assert client.get("/models", headers=ADMIN).json()["versions"][0]["path"] == str(
        bundle_v1.resolve()
    )
