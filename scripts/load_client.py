"""The HTTP benchmarks' common parts: the service under test (a real ``python -m service``
process on a loopback port), its CPU time, and the load generators.

Load: wrk (apt install wrk) when asked for and found, else a small asyncio HTTP/1.1 client in
a child process: one protocol object per keep-alive connection, every request encoded once
before the run, a response read by its Content-Length. The client shares the machine's cores
with the server, so it does as little per request as it can: each measurement's ratio to
/healthz is taken in the same run with the same client, which keeps the comparison fair.

Used by scripts/bench_service.py and scripts/bench_recommend_ranked.py (run from scripts/:
``from load_client import ...``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent

# (url, path, bodies or None for GET, connections, seconds) -> requests, rps, p50/p99, errors
LoadGenerator = Callable[[str, str, "list[str] | None", int, int], dict]


# -- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(bundle: Path, port: int, workdir: Path) -> subprocess.Popen:
    """``python -m service --bundle BUNDLE`` on ``port`` (SQLite in ``workdir``), once it is
    ready; raises with its error output when it exits or is not ready within 60 s."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PMTREC_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service",
            "--bundle",
            str(bundle),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited: {process.stderr.read()}")
            try:
                if client.get("/readyz").status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the service did not become ready within 60 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    server: subprocess.Popen,
    load: LoadGenerator,
    url: str,
    endpoint: str,
    bodies: list[str] | None,
    connections: int,
    duration: int,
) -> dict:
    """One load run, with the server's CPU time per request (robust to other processes
    sharing the cores, unlike the request rate)."""
    cpu_before = cpu_seconds(server.pid)
    result = load(url, endpoint, bodies, connections, duration)
    result["server_cpu_us"] = (
        1e6 * (cpu_seconds(server.pid) - cpu_before) / max(result["requests"], 1)
    )
    return result


# -- wrk -------------------------------------------------------------------------------------
def _lua_long_string(text: str) -> str:
    return "[==[" + text + "]==]"


def run_wrk(url: str, path: str, bodies: list[str] | None, connections: int, duration: int) -> dict:
    command = [
        "wrk",
        "-t",
        "1",
        "-c",
        str(connections),
        "-d",
        f"{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    script = None
    if bodies is not None:
        lua = (
            "local bodies = {" + ",".join(_lua_long_string(b) for b in bodies) + "}\n"
            "local headers = {['Content-Type'] = 'application/json'}\n"
            "local n = 0\n"
            "request = function()\n  n = n + 1\n"
            f"  return wrk.format('POST', '{path}', headers, bodies[(n % #bodies) + 1])\n"
            "end\n"
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(lua)
        script = handle.name
        command += ["-s", script]
    command.append(url + path)
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script)
    return parse_wrk(output)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(output: str) -> dict:
    percentiles = {
        int(p): _ms(v, u)
        for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    requests = re.search(r"(\d+) requests in", output)
    return {
        "requests": int(requests.group(1)) if requests else 0,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": percentiles.get(50, float("nan")),
        "p99_ms": percentiles.get(99, float("nan")),
        "errors": (int(errors.group(1)) if errors else 0)
        + (1 if socket_errors and re.search(r"[1-9]", socket_errors.group(1)) else 0),
    }


# -- the asyncio client ----------------------------------------------------------------------
class _Connection(asyncio.Protocol):
    """One keep-alive connection sending the pre-encoded requests in turn, the next as soon
    as the previous response is complete; records each latency and non-2xx status."""

    def __init__(self, requests, stop_at, latencies, failures, done) -> None:
        self.requests = requests
        self.stop_at = stop_at
        self.latencies = latencies
        self.failures = failures
        self.done = done
        self.sent = 0
        self.buffer = b""
        self.expected = -1  # bytes of the whole response once its head is read

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        self.started = time.perf_counter()
        self.transport.write(self.requests[self.sent % len(self.requests)])
        self.sent += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end]
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            self.expected = head_end + 4 + (int(length.group(1)) if length else 0)
            self.status = int(head[9:12])
        if len(self.buffer) < self.expected:
            return
        now = time.perf_counter()
        self.latencies.append(now - self.started)
        if self.status >= 300:
            self.failures.append(self.status)
        self.buffer = self.buffer[self.expected :]
        self.expected = -1
        if now < self.stop_at:
            self._send()
        else:
            self.transport.close()

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _python_client(
    host: str, port: int, requests: list[bytes], connections: int, duration: int, results
) -> None:
    latencies: list[float] = []
    failures: list[int] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop_at = time.perf_counter() + duration
        done = [loop.create_future() for _ in range(connections)]
        for finished in done:
            await loop.create_connection(
                lambda f=finished: _Connection(requests, stop_at, latencies, failures, f),
                host,
                port,
            )
        await asyncio.gather(*done)

    start = time.perf_counter()
    asyncio.run(run())
    results.put((latencies, failures, time.perf_counter() - start))


def run_python_client(
    url: str, path: str, bodies: list[str] | None, connections: int, duration: int
) -> dict:
    host, port = url.removeprefix("http://").split(":")
    if bodies is None:
        requests = [f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()]
    else:
        requests = []
        for body in bodies:
            data = body.encode()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
                f"\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            requests.append(head.encode() + data)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_python_client, args=(host, int(port), requests, connections, duration, results)
    )
    process.start()
    latencies, failures, elapsed = results.get()
    process.join()
    ms = np.array(latencies) * 1e3
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "errors": len(failures),
    }


def load_generator(client: str) -> tuple[LoadGenerator, str]:
    """The client asked for (``wrk``, ``python``, or ``auto``: wrk when found, else the
    asyncio client) and a line that describes it for a report."""
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk":
        return run_wrk, "wrk -t 1 (C, separate process)"
    return run_python_client, "asyncio HTTP/1.1 client (separate process)"
