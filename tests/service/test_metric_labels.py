"""Made-up methods and paths cannot grow /metrics (issue 13 item 6)."""

from __future__ import annotations


def _request_series(client) -> set[str]:
    text = client.get("/metrics").text
    return {
        line.rsplit(" ", 1)[0]
        for line in text.splitlines()
        if line.startswith("pmtrec_http_re") and not line.startswith("#")
    }


def test_made_up_methods_and_paths_add_no_series(client):
    # One of each kind first: its "other"/unmatched series may appear once.
    client.request("BREW", "/healthz")
    client.request("BREW", "/recommend")
    client.request("BREW", "/no/such/path")
    client.get("/no/such/path")
    client.get("/metrics")
    before = _request_series(client)
    for i in range(100):
        client.request(f"MADEUP{i}", "/healthz")
        client.request(f"X-{i}", f"/made/up/{i}")
        client.get(f"/made/up/{i}?q={i}")
        client.request(f"POKE{i}", "/recommend")
    after = _request_series(client)
    assert after == before, sorted(after - before)[:5]
    assert any('method="other"' in series for series in after)
    assert any('route="<unmatched>"' in series for series in after)
