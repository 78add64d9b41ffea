"""Run queued training and evaluation jobs: ``python -m trainer.worker``.

Reads the same ``PMTREC_*`` settings as the API (database, bundle root, data folder, job
heartbeats; see docs/deployment.md). Runs one job at a time; start several workers (processes
or hosts) on one database to run jobs in parallel. SIGTERM or Ctrl-C stops after giving the
running job back to the queue.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from pydantic import ValidationError

from shared.db import create_db_engine, create_session_factory, init_db
from shared.settings import describe_settings_error, get_settings
from trainer.jobs.context import LOG_FORMAT
from trainer.jobs.first_run import queue_first_model
from trainer.jobs.runner import HANDLERS, Worker
from trainer.names import DATASET_NAMES

log = logging.getLogger("trainer.worker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer.worker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--worker-id", help="default: host-pid-random")
    parser.add_argument(
        "--kinds",
        default=",".join(HANDLERS),
        help=f"job kinds this worker runs (default: {','.join(HANDLERS)})",
    )
    parser.add_argument("--max-jobs", type=int, help="exit after this many jobs")
    parser.add_argument("--exit-when-idle", action="store_true", help="exit when no job is queued")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format=LOG_FORMAT)
    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(HANDLERS))
    if unknown or not kinds:
        print(f"error: unknown job kinds {unknown}; valid: {', '.join(HANDLERS)}", file=sys.stderr)
        return 2
    try:
        settings = get_settings()
    except ValidationError as error:
        print(f"error: invalid settings: {describe_settings_error(error)}", file=sys.stderr)
        return 2
    if settings.first_run_dataset and settings.first_run_dataset not in DATASET_NAMES:
        print(
            f"error: PMTREC_FIRST_RUN_DATASET={settings.first_run_dataset!r} is not a dataset; "
            f"valid names: {', '.join(DATASET_NAMES)}",
            file=sys.stderr,
        )
        return 2
    engine = create_db_engine(settings.database_url)
    # The URL's password never reaches the log.
    log.info("database %s", engine.url.render_as_string(hide_password=True))
    if settings.auto_migrate:
        log.info("database schema at revision %s", init_db(engine))
    sessions = create_session_factory(engine)
    if settings.first_run_dataset and "train" in kinds:
        queue_first_model(sessions, settings.first_run_dataset)
    worker = Worker(
        settings,
        sessions,
        worker_id=args.worker_id,
        handlers={kind: HANDLERS[kind] for kind in kinds},
    )

    def _stop(signum: int, _frame) -> None:
        log.warning("%s: stopping after giving the running job back", signal.Signals(signum).name)
        worker.shutdown(f"worker {worker.worker_id} received {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        worker.run(max_jobs=args.max_jobs, exit_when_idle=args.exit_when_idle)
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
