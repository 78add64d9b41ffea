"""Start the service: ``python -m service [--bundle PATH] [--host HOST] [--port PORT]``.

Settings come from ``PMTREC_*`` environment variables (see docs/service.md). A bundle given
with ``--bundle`` is registered and activated: it replaces the version the database
marks active, and the log names the version replaced.
"""

from __future__ import annotations

import os

# BLAS pools (numpy's, FAISS's) size themselves when first loaded, so bound them before any
# import that loads numpy: one worker process should use about one core.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, os.environ.get("PMTREC_FAISS_THREADS", "1"))

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import uvicorn  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from shared.bundle import BundleError, verify_bundle  # noqa: E402
from shared.settings import describe_settings_error, get_settings  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bundle", type=Path, help="model bundle folder to register")
    parser.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="default: 8000")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off by default; /metrics counts them)",
    )
    return parser


def example_request(bundle: Path | None, host: str, port: int) -> str:
    """A curl command that works against the freshly started service."""
    user_id = "<user id>"
    if bundle is not None:
        try:
            user_ids = json.loads((bundle / "user_ids.json").read_text())
            user_id = user_ids[0] if user_ids else user_id
        except (OSError, ValueError):
            pass
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    body = json.dumps({"user_id": user_id, "k": 5})
    return (
        f"curl -s -X POST http://{shown_host}:{port}/recommend "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # CPU-feature probing noise
    if args.bundle is not None:
        try:
            verify_bundle(args.bundle)
        except BundleError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    from service.app import create_app

    try:
        settings = get_settings()
    except ValidationError as error:
        print(f"error: invalid settings: {describe_settings_error(error)}", file=sys.stderr)
        return 2
    app = create_app(settings, bootstrap_bundle=args.bundle)
    print(
        f"serving on http://{args.host}:{args.port} (docs at /docs); try:\n"
        f"  {example_request(args.bundle, args.host, args.port)}",
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
