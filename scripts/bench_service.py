"""HTTP benchmark of the service: a real uvicorn process (one worker) on loopback, load from a
second process, /recommend against /healthz (the ceiling) at several concurrencies.

    python scripts/bench_service.py [--bundle PATH] [--duration 10] [--concurrency 1 16 64]

Without --bundle it trains a short BPR model on Office (needs PMTREC_DATA_DIR). The load
generator is wrk (apt install wrk) when found, else the asyncio HTTP/1.1 client of
scripts/load_client.py in a child process. Prints a table and writes docs/bench/service.md
and docs/bench/service.json.
Goals: /recommend throughput >= 50% of /healthz; p99 <= 25 ms at concurrency 16.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import httpx
from load_client import (  # scripts/, beside this file
    free_port,
    load_generator,
    measure,
    start_server,
)

REPO = Path(__file__).resolve().parent.parent
K = 10


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


def recommend_bodies(bundle: Path, count: int = 2000) -> list[str]:
    user_ids = json.loads((bundle / "user_ids.json").read_text())
    rng = random.Random(0)
    return [json.dumps({"user_id": rng.choice(user_ids), "k": K}) for _ in range(count)]


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
    load, client_line = load_generator(args.client)

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
                    result = measure(
                        server, load, url, endpoint, payload, connections, args.duration
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
        "client": client_line,
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
