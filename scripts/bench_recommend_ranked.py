"""HTTP benchmark of recommending by objective (issue 16, acceptance 3): ``/recommend`` on a
two-stage bundle, 200 FAISS candidates re-ranked by an MMoE ranker over user and item ids,
against ``/healthz`` of the same uvicorn process (one worker), measured in one run; the same
catalogue without a ranker is measured too, for the cost of the ranking stage.

    python scripts/bench_recommend_ranked.py [--duration 10] [--concurrency 1 16]
        [--users 15449] [--items 11953] [--candidates 200]

The catalogue has tmall's size (15,449 users, 11,953 items) with random vectors (speed does
not depend on their values); the ranker is the product's default MMoE (RankerConfig: ids
embedded 4 wide, 8 experts of [16], towers [8]) over (user, item), with random weights,
exported by the trainer (this process imports torch for that; the server never does).
Requests: random known users, k=10, objectives {"buy": 1.0, "cart": 0.2}. Load: wrk when
found, else the asyncio client of scripts/load_client.py in a child process (the same for
/healthz and /recommend). Prints a table and writes
docs/bench/recommend-ranked.md and .json. Goals: p99 <= 25 ms at concurrency 16 and
throughput >= 40% of /healthz.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import httpx
import numpy as np
from load_client import (  # scripts/, beside this file
    free_port,
    load_generator,
    measure,
    start_server,
)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the product's packages, when run from a checkout

from shared.bundle import RankerSpec, load_bundle, write_bundle  # noqa: E402
from shared.user_encoder import build_user_encoder  # noqa: E402

K = 10
WEIGHTS = {"buy": 1.0, "cart": 0.2}
OBJECTIVES = ("buy", "cart")


def write_catalogue(path: Path, num_users: int, num_items: int, dim: int) -> Path:
    """A retrieval bundle of random vectors (speed does not depend on their values); every
    user has 3 to 6 seen items."""
    rng = np.random.default_rng(0)
    users = rng.normal(size=(num_users, dim)).astype(np.float32)
    items = rng.normal(size=(num_items, dim)).astype(np.float32)
    seen = [
        np.sort(rng.choice(num_items, rng.integers(3, 7), replace=False)) for _ in range(num_users)
    ]
    indices = np.concatenate(seen)
    return write_bundle(
        path,
        model_version="catalogue-retrieval",
        dataset="synthetic",
        method="random",
        hyperparameters={"seed": 0},
        metrics={"test": {}},
        user_embeddings=users,
        item_embeddings=items,
        user_ids=[f"u{i}" for i in range(num_users)],
        item_ids=[f"i{i}" for i in range(num_items)],
        seen_indptr=np.concatenate([[0], np.cumsum([len(s) for s in seen])]),
        seen_indices=indices,
        item_popularity=np.bincount(indices, minlength=num_items).astype(np.float32),
        user_encoder_onnx=build_user_encoder(
            items, float(np.median(np.linalg.norm(users, axis=1)))
        ),
        overwrite=True,
    )


def write_ranked_catalogue(retrieval_path: Path, path: Path) -> Path:
    """The catalogue again, with the product's default MMoE (RankerConfig) over (user, item)
    exported by the trainer; random id embeddings (N(0, 1)), untrained: speed only."""
    import torch  # the benchmark's own process; the server under test never imports it

    from trainer.ranking.export import ranker_onnx
    from trainer.ranking.models import RankerConfig, build_ranker
    from trainer.ranking.samples import FeatureSchema

    torch.set_num_threads(1)
    torch.manual_seed(0)
    retrieval = load_bundle(retrieval_path)
    schema = FeatureSchema(
        categorical=("user", "item"),
        cardinalities=(retrieval.num_users + 1, retrieval.num_items + 1),
        numeric=(),
        tasks=OBJECTIVES,
        user_feature="user",
    )
    config = RankerConfig()
    model = build_ranker("mmoe", schema, config)
    with torch.no_grad():
        model.embedding.table.normal_(0.0, 1.0)
    arrays = {
        name: getattr(retrieval, name)
        for name in (
            "user_embeddings",
            "item_embeddings",
            "user_ids",
            "item_ids",
            "seen_indptr",
            "seen_indices",
            "item_popularity",
        )
    }
    return write_bundle(
        path,
        model_version="catalogue-ranked",
        dataset="synthetic",
        method="random",
        hyperparameters={"seed": 0},
        metrics={"test": {}},
        user_encoder_onnx=retrieval.user_encoder_path.read_bytes(),
        overwrite=True,
        ranker=RankerSpec(
            onnx=ranker_onnx(model),
            model="mmoe",
            objectives=list(OBJECTIVES),
            target=OBJECTIVES[0],
            hyperparameters=config.to_dict(),
        ),
        **arrays,
    )


def bodies_for(bundle: Path, objectives: dict[str, float] | None, count: int = 2000) -> list[str]:
    user_ids = json.loads((bundle / "user_ids.json").read_text())
    rng = random.Random(0)
    extra = {"objectives": objectives} if objectives else {}
    return [json.dumps({"user_id": rng.choice(user_ids), "k": K, **extra}) for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--users", type=int, default=15_449)
    parser.add_argument("--items", type=int, default=11_953)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--out", type=Path, default=REPO / "docs/bench/recommend-ranked.md")
    args = parser.parse_args(argv)
    load, client_line = load_generator(args.client)
    os.environ["PMTREC_RANKER_CANDIDATES"] = str(args.candidates)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ranked-") as tmp:
        workdir = Path(tmp)
        print(f"building a {args.users} x {args.items} catalogue and its ranker ...", flush=True)
        plain = write_catalogue(workdir / "bundles" / "plain", args.users, args.items, args.dim)
        ranked = write_ranked_catalogue(plain, workdir / "bundles" / "ranked")
        load_before = os.getloadavg()[0]
        for name, bundle, objectives in (
            ("ranked", ranked, WEIGHTS),
            ("retrieval only", plain, None),
        ):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            serverdir = workdir / name.replace(" ", "-")
            serverdir.mkdir()
            server = start_server(bundle, port, serverdir)
            bodies = bodies_for(bundle, objectives)
            try:
                check = httpx.post(f"{url}/recommend", json=json.loads(bodies[0])).json()
                assert check["ranked_by"] == ("ranker" if objectives else "retrieval"), check
                load(url, "/healthz", None, 16, 2)  # warm-up
                load(url, "/recommend", bodies, 16, 2)
                for connections in args.concurrency:
                    endpoints = [("/healthz", None), ("/recommend", bodies)]
                    if name != "ranked":  # the ceiling is the ranked server's /healthz
                        endpoints = endpoints[1:]
                    for endpoint, payload in endpoints:
                        result = measure(
                            server, load, url, endpoint, payload, connections, args.duration
                        )
                        row = {"bundle": name, "endpoint": endpoint, "concurrency": connections}
                        rows.append({**row, **result})
                        print(
                            f"{name:<15} {endpoint:<11} c={connections:<3} "
                            f"{result['rps']:>8.0f} req/s  p50 {result['p50_ms']:6.2f} ms  "
                            f"p99 {result['p99_ms']:6.2f} ms  server CPU "
                            f"{result['server_cpu_us']:5.0f} us/req  errors {result['errors']}",
                            flush=True,
                        )
            finally:
                server.terminate()
                server.wait(timeout=30)
        load_after = os.getloadavg()[0]

    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python scripts/bench_recommend_ranked.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average "
        f"{load_before:.2f} before the measurements, {load_after:.2f} after",
        "server": "python -m service (uvicorn, 1 worker, access log off), 1 FAISS/ONNX "
        "thread; concurrent /recommend queries answered together by the batching thread",
        "client": client_line,
        "catalogue": f"{args.users} users, {args.items} items, dim {args.dim} (exact index)",
        "ranker": "MMoE, product defaults (ids embedded 4 wide, 8 experts [16], towers [8]), "
        "objectives buy, cart",
        "candidates": args.candidates,
        "k": K,
        "weights": WEIGHTS,
        "duration_s": args.duration,
        "rows": rows,
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
    ceiling = {r["concurrency"]: r for r in rows if r["endpoint"] == "/healthz"}
    lines = [
        "# Recommending by objective: two-stage /recommend",
        "",
        f"- when: {report['when']}",
        f"- command: `{report['command']}`",
        f"- machine: {report['machine']}",
        f"- server: {report['server']}",
        f"- load: {report['client']}",
        f"- catalogue: {report['catalogue']}; random known users, k={report['k']}",
        f"- ranker: {report['ranker']}; {report['candidates']} candidates per request, "
        f"weights {json.dumps(report['weights'])}",
        f"- {report['duration_s']} s per measurement; one run, servers one after the other",
        "",
        "| bundle | endpoint | concurrency | req/s | p50 ms | p99 ms | server CPU µs/req "
        "| errors | % of /healthz req/s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        top = ceiling.get(r["concurrency"])
        share = f"{100 * r['rps'] / top['rps']:.0f}%" if top else "-"
        lines.append(
            f"| {r['bundle']} | `{r['endpoint']}` | {r['concurrency']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['server_cpu_us']:.0f} | "
            f"{r['errors']} | {share} |"
        )
    lines.append("")
    by = {(r["bundle"], r["endpoint"], r["concurrency"]): r for r in rows}
    ranked16 = by.get(("ranked", "/recommend", 16))
    health16 = by.get(("ranked", "/healthz", 16))
    plain16 = by.get(("retrieval only", "/recommend", 16))
    if ranked16 and health16:
        share = ranked16["rps"] / health16["rps"]
        lines += [
            f"Goal p99 <= 25 ms at concurrency 16: {ranked16['p99_ms']:.2f} ms "
            f"({'met' if ranked16['p99_ms'] <= 25 else 'NOT met'}).",
            f"Goal throughput >= 40% of /healthz at concurrency 16: {share:.0%} "
            f"({'met' if share >= 0.4 else 'NOT met'}).",
            f"Server CPU per request at concurrency 16: /healthz {health16['server_cpu_us']:.0f} "
            f"µs, ranked /recommend {ranked16['server_cpu_us']:.0f} µs: on a core of its own "
            "the server would answer ranked /recommend at "
            f"{health16['server_cpu_us'] / ranked16['server_cpu_us']:.0%} of the /healthz rate.",
        ]
        if plain16:
            lines.append(
                f"The ranking stage (200 candidates scored and blended) costs "
                f"{ranked16['server_cpu_us'] - plain16['server_cpu_us']:.0f} µs of server CPU "
                f"per request over retrieval alone ({plain16['server_cpu_us']:.0f} µs)."
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
