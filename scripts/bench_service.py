"""HTTP benchmark of the service: a real uvicorn process (one worker) on loopback, load from a
second process, /recommend against /healthz (the ceiling) at several concurrencies.

    python scripts/bench_service.py [--bundle PATH] [--duration 10] [--concurrency 1 16 64]

Without --bundle it trains a short BPR model on Office (needs PMTREC_DATA_DIR). The load
generator is wrk (apt install wrk) when found, else a small asyncio HTTP/1.1 client in a
child process. Prints a table and writes docs/bench/service.md and docs/bench/service.json.
Goals: /recommend throughput >= 50% of /healthz; p99 <= 25 ms at concurrency 16.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parent.parent
K = 10


# -- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_office_bundle(out: Path) -> Path:
    print("no --bundle: training a short BPR model on Office for the benchmark ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer.fit",
            "--dataset",
            "office",
            "--method",
            "bpr",
            "--epochs",
            "3",
            "--out",
            str(out),
            "--overwrite",
            "--no-progress",
        ],
        cwd=REPO,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return out


def start_server(bundle: Path, port: int, workdir: Path) -> subprocess.Popen:
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


# -- load generators -------------------------------------------------------------------------
def recommend_bodies(bundle: Path, count: int = 2000) -> list[str]:
    user_ids = json.loads((bundle / "user_ids.json").read_text())
    rng = random.Random(0)
    return [json.dumps({"user_id": rng.choice(user_ids), "k": K}) for _ in range(count)]


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


async def _connection_loop(
    host: str,
    port: int,
    requests: list[bytes],
    stop_at: float,
    latencies: list[float],
    failures: list[int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    while time.perf_counter() < stop_at:
        payload = requests[n % len(requests)]
        n += 1
        start = time.perf_counter()
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        latencies.append(time.perf_counter() - start)
        if status >= 300:
            failures.append(status)
    writer.close()


def _python_client(
    host: str, port: int, requests: list[bytes], connections: int, duration: int, results
) -> None:
    latencies: list[float] = []
    failures: list[int] = []

    async def run() -> None:
        stop_at = time.perf_counter() + duration
        await asyncio.gather(
            *(
                _connection_loop(host, port, requests, stop_at, latencies, failures)
                for _ in range(connections)
            )
        )

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
        requests = [
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
                f"\r\nContent-Length: {len(b.encode())}\r\n\r\n{b}"
            ).encode()
            for b in bodies
        ]
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


# -- the run ---------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bundle", type=Path, help="default: train a short Office BPR model")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bench" / "service.md")
    args = parser.parse_args(argv)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if client == "wrk" else run_python_client

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        workdir = Path(tmp)
        bundle = (args.bundle or train_office_bundle(workdir / "office")).resolve()
        manifest = json.loads((bundle / "manifest.json").read_text())
        bodies = recommend_bodies(bundle)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(bundle, port, workdir)
        load_before = os.getloadavg()[0]
        rows = []
        try:
            load(url, "/healthz", None, 16, 2)  # warm-up
            load(url, "/recommend", bodies, 16, 2)
            for connections in args.concurrency:
                for endpoint, payload in (("/healthz", None), ("/recommend", bodies)):
                    cpu_before = cpu_seconds(server.pid)
                    result = load(url, endpoint, payload, connections, args.duration)
                    # Server CPU per request: robust to other processes sharing the cores.
                    result["server_cpu_us"] = (
                        1e6 * (cpu_seconds(server.pid) - cpu_before) / max(result["requests"], 1)
                    )
                    rows.append({"endpoint": endpoint, "concurrency": connections, **result})
                    print(
                        f"{endpoint:<11} c={connections:<3} {result['rps']:>8.0f} req/s  "
                        f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                        f"server CPU {result['server_cpu_us']:5.0f} us/req  "
                        f"errors {result['errors']}",
                        flush=True,
                    )
            metrics = httpx.get(f"{url}/metrics").text
        finally:
            server.terminate()
            server.wait(timeout=30)

    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load_before:.2f} before the run",
        "server": "python -m service (uvicorn, 1 worker, access log off), 1 FAISS/ONNX thread",
        "client": "wrk -t 1 (C, separate process)"
        if client == "wrk"
        else "asyncio HTTP/1.1 client (separate process)",
        "bundle": f"{manifest['model_version']}: {manifest['num_users']} users, "
        f"{manifest['num_items']} items, dim {manifest['dim']}",
        "k": K,
        "duration_s": args.duration,
        "rows": rows,
        "served_by_metrics": "pmtrec_http_requests_total" in metrics,
    }
    markdown = render(report)
    print("\n" + markdown)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out} and {args.out.with_suffix('.json')}")
    return 0


def render(report: dict) -> str:
    rows = report["rows"]
    by = {(r["endpoint"], r["concurrency"]): r for r in rows}
    lines = [
        "# Service benchmark",
        "",
        f"- when: {report['when']}",
        f"- machine: {report['machine']}",
        f"- server: {report['server']}",
        f"- load: {report['client']}",
        f"- bundle: {report['bundle']}; `/recommend` with k={report['k']}, random known users",
        f"- {report['duration_s']} s per measurement",
        "",
        "| endpoint | concurrency | req/s | p50 ms | p99 ms | server CPU µs/req | errors "
        "| % of /healthz req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ceiling = by.get(("/healthz", r["concurrency"]))
        share = f"{100 * r['rps'] / ceiling['rps']:.0f}%" if ceiling else "-"
        lines.append(
            f"| `{r['endpoint']}` | {r['concurrency']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['server_cpu_us']:.0f} | "
            f"{r['errors']} | {share} |"
        )
    lines.append("")
    recommend16, health16 = by.get(("/recommend", 16)), by.get(("/healthz", 16))
    if recommend16 and health16:
        share = recommend16["rps"] / health16["rps"]
        lines += [
            f"Goal throughput >= 50% of /healthz at concurrency 16: {share:.0%} "
            f"({'met' if share >= 0.5 else 'NOT met'}).",
            f"Goal p99 <= 25 ms at concurrency 16: {recommend16['p99_ms']:.2f} ms "
            f"({'met' if recommend16['p99_ms'] <= 25 else 'NOT met'}).",
            f"Server CPU per request at concurrency 16: /healthz {health16['server_cpu_us']:.0f} "
            f"µs, /recommend {recommend16['server_cpu_us']:.0f} µs: on a core of its own the "
            f"server would answer /recommend at "
            f"{health16['server_cpu_us'] / recommend16['server_cpu_us']:.0%} of the /healthz rate.",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
