"""Probe a running service with the requests that once broke it (reliability items 1-9).

    python scripts/probe_service.py [--bundle PATH] [--out docs/bench/probe.md]

Starts a real uvicorn process (one worker) on loopback over a bundle (without --bundle it
trains a short BPR model on Office as scripts/bench_service.py does; needs PMTREC_DATA_DIR),
with an admin token and a client API key configured, replays each probe and prints a table:
item, request, status, time, expected status, and whether the answer was the expected one.
The database is a private PostgreSQL cluster started for the run on a free port (initdb and
pg_ctl from the PostgreSQL installation, run as the ``postgres`` user when the script runs
as root), so the outage probe (item 9) can stop it and start it again; without those
programs the run uses a SQLite file and reports the outage probe as not run. Writes the
table to --out (Markdown) and a JSON file beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
from bench_service import train_office_bundle  # scripts/, beside this file
from load_client import free_port

REPO = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "probe-admin-token-0123456789"
API_KEY = "probe-client-key-0123456789"


@dataclass
class Probe:
    item: str
    request: str
    status: int | None
    seconds: float
    expected: tuple[int, ...]
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status in self.expected


@dataclass
class Run:
    base: str
    probes: list[Probe] = field(default_factory=list)

    def send(
        self,
        item: str,
        label: str,
        method: str,
        path: str,
        expected: tuple[int, ...],
        *,
        content: bytes | None = None,
        json_body: object = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        note: str = "",
    ) -> httpx.Response | None:
        if json_body is not None:
            content = json.dumps(json_body).encode()
        sent_headers = {"Content-Type": "application/json", **(headers or {})}
        start = time.perf_counter()
        try:
            response = httpx.request(
                method, self.base + path, content=content, headers=sent_headers, timeout=timeout
            )
            status: int | None = response.status_code
        except httpx.HTTPError as error:
            response, status, note = None, None, f"{type(error).__name__}: {error}"
        elapsed = time.perf_counter() - start
        if response is not None and not note and status not in expected:
            note = response.text[:160]
        self.probes.append(Probe(item, label, status, elapsed, expected, note))
        return response


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    return False


# -- the database ----------------------------------------------------------------------------
class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, so that it can be stopped mid-run."""

    def __init__(self, root: Path) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            raise FileNotFoundError("pg_ctl not found")
        self.bin = Path(binaries[-1]).parent
        self.root = root / "pgdata"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        kwargs: dict = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            kwargs.update(user=entry.pw_uid, group=entry.pw_gid, cwd="/tmp")
        subprocess.run(command, **kwargs)

    def init(self) -> None:
        self.root.mkdir(parents=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            os.chown(self.root.parent, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.root), "-A", "trust", "-U", "postgres")
        self.start()
        subprocess.run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "probe",
            ],
            check=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.root), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/probe"


# -- the bundle ------------------------------------------------------------------------------
def doctored_copy(bundle: Path, out: Path) -> Path:
    """The bundle with its item ids rewritten as integers and a checksum that matches."""
    import hashlib

    shutil.copytree(bundle, out)
    ids_file = out / "item_ids.json"
    ids = json.loads(ids_file.read_text())
    ids_file.write_text(json.dumps(list(range(len(ids)))))
    manifest_file = out / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    digest = hashlib.sha256(ids_file.read_bytes()).hexdigest()
    manifest["files"]["item_ids.json"] = digest
    manifest["model_version"] = str(manifest["model_version"]) + "-doctored"
    manifest_file.write_text(json.dumps(manifest, indent=2))
    return out


# -- the server ------------------------------------------------------------------------------
def start_server(bundle: Path, port: int, env_extra: dict[str, str], log: Path):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PMTREC_ADMIN_TOKEN": ADMIN_TOKEN,
        "PMTREC_API_KEY": API_KEY,
        "PMTREC_BUNDLE_ROOT": str(bundle.parent),
        "PMTREC_ACTIVE_POLL_SECONDS": "1",
        **env_extra,
    }
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--bundle", str(bundle), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: httpx.get(base + "/readyz", timeout=2).status_code == 200, 120):
        process.kill()
        raise RuntimeError("the service did not become ready:\n" + log.read_text()[-3000:])
    return process, base


# -- the probes ------------------------------------------------------------------------------
def probe_all(run: Run, bundle: Path, doctored: Path, pg: PrivatePostgres | None) -> None:
    client = {"X-API-Key": API_KEY, "Authorization": f"Bearer {API_KEY}"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    user = json.loads((bundle / "user_ids.json").read_text())[0]
    item = json.loads((bundle / "item_ids.json").read_text())[0]
    bad = (400, 413, 422)

    # 1. Non-finite numbers.
    for literal in ("NaN", "Infinity", "1e400"):
        run.send(
            "1",
            f"/recommend k={literal}",
            "POST",
            "/recommend",
            bad,
            content=f'{{"user_id": "{user}", "k": {literal}}}'.encode(),
            headers=client,
        )
    run.send(
        "1",
        "/feedback rating=NaN",
        "POST",
        "/feedback",
        bad,
        content=f'[{{"user_id": "{user}", "item_id": "{item}", "rating": NaN}}]'.encode(),
        headers=client,
    )
    # 2. Lone surrogates.
    run.send(
        "2",
        "/recommend user_id=\\ud800x",
        "POST",
        "/recommend",
        bad,
        content=b'{"user_id": "\\ud800x", "k": 5}',
        headers=client,
    )
    run.send(
        "2",
        "/recommend history=[\\ud800x]",
        "POST",
        "/recommend",
        bad,
        content=b'{"user_id": "new", "history": ["\\ud800x"], "k": 5}',
        headers=client,
    )
    run.send(
        "2",
        "/feedback item_id=\\ud800x",
        "POST",
        "/feedback",
        bad,
        content=f'[{{"user_id": "{user}", "item_id": "\\ud800x"}}]'.encode(),
        headers=client,
    )
    # 3. Timestamps near the date limits.
    for stamp in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        run.send(
            "3",
            f"/feedback timestamp={stamp}",
            "POST",
            "/feedback",
            (201, 422),
            json_body=[{"user_id": user, "item_id": item, "timestamp": stamp}],
            headers=client,
        )
    # 4. A too-long path component.
    run.send(
        "4",
        "/models path=<300 x 'a'>",
        "POST",
        "/models",
        (*bad, 404),
        json_body={"path": "a" * 300},
        headers=admin,
    )
    # 5. Bounded work: a huge batch, a 100 MB body; /healthz timed meanwhile.
    heavy = {"requests": [{"user_id": user, "k": 1000} for _ in range(500)]}
    healthz: list[float] = []
    done = threading.Event()

    def watch_healthz() -> None:
        while not done.is_set():
            start = time.perf_counter()
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(run.base + "/healthz", timeout=30)
            healthz.append(time.perf_counter() - start)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch_healthz)
    watcher.start()
    try:
        run.send(
            "5",
            "/recommend/batch 500 x k=1000",
            "POST",
            "/recommend/batch",
            bad,
            json_body=heavy,
            headers=client,
        )
        response = run.send(
            "5",
            "/recommend 100 MB body",
            "POST",
            "/recommend",
            (413,),
            content=b'{"user_id": "' + b"x" * (100 * 2**20) + b'"}',
            headers=client,
        )
        if response is not None:
            run.probes[-1].note = f"answer {len(response.content)} bytes"
    finally:
        done.set()
        watcher.join()
    run.probes.append(
        Probe(
            "5",
            f"/healthz meanwhile (max of {len(healthz)})",
            200,
            max(healthz or [0]),
            (200,),
            "slowest /healthz while the two requests above ran",
        )
    )
    # 6. Metric labels.
    before = len(httpx.get(run.base + "/metrics", headers=admin, timeout=30).content)
    for n in range(200):
        with contextlib.suppress(httpx.HTTPError):
            httpx.request(f"MADEUP{n}", run.base + f"/nowhere/{n}", timeout=10)
    response = run.send(
        "6", "/metrics after 200 made-up methods", "GET", "/metrics", (200,), headers=admin
    )
    if response is not None:
        run.probes[-1].note = f"{before} -> {len(response.content)} bytes"
        if len(response.content) > before + 4096:
            run.probes[-1].expected = ()  # grew: a failure
    # 7. A bundle that cannot serve.
    registered = run.send(
        "7",
        "register bundle with integer item ids",
        "POST",
        "/models",
        (201, 200, 409, 422),
        json_body={"path": str(doctored)},
        headers=admin,
    )
    version = None
    if registered is not None and registered.status_code in (200, 201):
        version = registered.json().get("id")
    if version is not None:
        run.send(
            "7", "activate it", "POST", f"/models/{version}/activate", (409, 422), headers=admin
        )
    run.send(
        "7",
        "/recommend afterwards (old model serves)",
        "POST",
        "/recommend",
        (200,),
        json_body={"user_id": user, "k": 5},
        headers=client,
    )
    # 8. Job input files outside the data roots.
    for path in ("/etc/passwd", "../../etc/passwd", "/nonexistent/secret.csv"):
        run.send(
            "8",
            f"/retrain interactions={path}",
            "POST",
            "/retrain",
            (403, 422),
            json_body={"dataset": "csv", "load_options": {"interactions": path}},
            headers=admin,
        )
    # 9. Database outage.
    if pg is None:
        run.probes.append(Probe("9", "database outage", None, 0.0, (), "not run: no pg_ctl"))
        return
    pg.stop()
    try:
        run.send("9", "/readyz while the database is down", "GET", "/readyz", (503,))
        run.send(
            "9",
            "/feedback while the database is down",
            "POST",
            "/feedback",
            (503,),
            json_body=[{"user_id": user, "item_id": item}],
            headers=client,
        )
        response = run.send(
            "9", "/models while the database is down", "GET", "/models", (503,), headers=admin
        )
        if response is not None and "retry-after" not in response.headers:
            run.probes[-1].note, run.probes[-1].expected = "no Retry-After", ()
        run.send(
            "9",
            "/recommend while the database is down",
            "POST",
            "/recommend",
            (200,),
            json_body={"user_id": user, "k": 5},
            headers=client,
        )
    finally:
        pg.start()
    recovered = wait_until(
        lambda: httpx.get(run.base + "/readyz", timeout=5).status_code == 200, 30
    )
    run.send(
        "9",
        "/readyz after restart",
        "GET",
        "/readyz",
        (200,),
        note="" if recovered else "did not recover within 30 s",
    )
    run.send(
        "9",
        "/feedback after restart",
        "POST",
        "/feedback",
        (201,),
        json_body=[{"user_id": user, "item_id": item}],
        headers=client,
    )


def render(run: Run, database: str) -> str:
    lines = [
        "# Service probe: the requests that once broke it",
        "",
        f"`python scripts/probe_service.py` on {platform.node()} "
        f"({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC), one uvicorn worker, "
        f"database: {database}.",
        "",
        "| item | request | status | time (ms) | expected | ok | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in run.probes:
        expected = "/".join(str(s) for s in p.expected) or "-"
        note = p.note.replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {p.item} | {p.request} | {p.status} | {p.seconds * 1000:.1f} | {expected} | "
            f"{'yes' if p.ok else 'NO'} | {note} |"
        )
    passed = sum(p.ok for p in run.probes)
    lines += ["", f"{passed} of {len(run.probes)} probes answered as expected."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "probe.md")
    parser.add_argument("--sqlite", action="store_true", help="use SQLite (no outage probe)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pmtrec-probe-") as scratch:
        work = Path(scratch)
        os.chmod(work, 0o755)
        bundles = work / "bundles"
        bundles.mkdir()
        source = args.bundle or train_office_bundle(work / "trained")
        bundle = bundles / "good"
        shutil.copytree(source, bundle)
        doctored = doctored_copy(bundle, bundles / "doctored")
        pg = None
        if not args.sqlite:
            try:
                pg = PrivatePostgres(work)
                pg.init()
            except (FileNotFoundError, subprocess.CalledProcessError, KeyError) as error:
                print(f"private PostgreSQL unavailable ({error}); using SQLite", flush=True)
                pg = None
        database = pg.url if pg else f"sqlite:///{work / 'probe.db'}"
        env = {"PMTREC_DATABASE_URL": database, "PMTREC_DATA_DIR": str(work / "data")}
        (work / "data").mkdir()
        process, base = start_server(bundle, free_port(), env, work / "service.log")
        run = Run(base)
        try:
            probe_all(run, bundle, doctored, pg)
        finally:
            process.terminate()
            process.wait(30)
            if pg is not None:
                with contextlib.suppress(subprocess.CalledProcessError):
                    pg.stop()
        crashes = (work / "service.log").read_text().count("Traceback")
    label = "a private PostgreSQL cluster" if pg else "SQLite"
    text = render(run, label) + f"\nTracebacks in the service log: {crashes}.\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(
        json.dumps(
            [p.__dict__ | {"ok": p.ok, "expected": list(p.expected)} for p in run.probes],
            indent=2,
        )
        + "\n"
    )
    return 0 if all(p.ok for p in run.probes) and crashes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
