"""``/docs`` renders without internet (issue 18 item 4): a real headless browser (Debian's
chromium) loads the page from a real ``python -m service`` process and lists the operations.
The assets come from the service itself; the page names no other host."""

from __future__ import annotations

import re
import shutil
import subprocess

import httpx
import pytest

from tests.jobs.processes import settings_env, start_api
from tests.service.conftest import make_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless as root in a container; the virtual time budget lets the page's scripts run to
# the end (fetching /openapi.json, drawing the operations) before the DOM is dumped.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--virtual-time-budget=20000",
)


def test_docs_page_assets_are_served_locally(database_url, bundle_root, bundle_v1, tmp_path):
    settings = make_settings(database_url, bundle_root)
    api, url = start_api(settings_env(settings), tmp_path, bundle=bundle_v1)
    try:
        page = httpx.get(f"{url}/docs", timeout=30).text
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
        assert any(a.endswith("swagger-ui-bundle.js") for a in assets), page
        assert all(a.startswith("/") for a in assets), assets  # no CDN, no other host
        for asset in assets:
            assert httpx.get(f"{url}{asset}", timeout=30).status_code == 200, asset
        if CHROMIUM is None:
            pytest.skip("chromium is not installed (apt-get install chromium)")
        profile = f"--user-data-dir={tmp_path / 'profile'}"
        dom = subprocess.run(
            [CHROMIUM, *BROWSER_FLAGS, profile, "--dump-dom", f"{url}/docs"],
            capture_output=True,
            text=True,
            timeout=240,
        ).stdout
    finally:
        api.stop()
    # Swagger UI drew the operations from /openapi.json: one block per path and method.
    assert 'class="swagger-ui' in dom
    assert "opblock-summary-path" in dom
    for path in ("/recommend", "/recommend/batch", "/feedback", "/readyz"):
        assert f'data-path="{path}"' in dom, path
