"""The worker: claims one queued job at a time, runs it with heartbeats, reaps dead claims."""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shared.bundle import BundleError
from shared.db import Job, LostJobError
from shared.db.job_queue import (
    claim_next_job,
    fail_job,
    finish_cancelled,
    reap_stale_jobs,
    release_job,
)
from shared.settings import Settings
from trainer.data import DatasetError
from trainer.jobs.checkpoints import remove_finished_checkpoints
from trainer.jobs.context import JobCancelled, JobContext, JobFailure
from trainer.jobs.evaluate import run_evaluate_job
from trainer.jobs.train import run_train_job
from trainer.training import ConfigError

log = logging.getLogger("trainer.worker")

JobHandler = Callable[[JobContext], None]
HANDLERS: dict[str, JobHandler] = {"train": run_train_job, "evaluate": run_evaluate_job}
# Errors whose message says it all (bad parameters, missing data, a refused bundle).
EXPECTED_ERRORS = (JobFailure, ConfigError, DatasetError, BundleError)


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Worker:
    """Runs queued jobs until stopped. Several workers (processes, hosts) may share a database:
    claiming is atomic (``shared.db.job_queue``), so a job runs on one worker at a time."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        worker_id: str | None = None,
        handlers: dict[str, JobHandler] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.worker_id = worker_id or new_worker_id()
        self.handlers = dict(HANDLERS if handlers is None else handlers)
        self.stop = threading.Event()
        self._current: JobContext | None = None

    def run(self, *, max_jobs: int | None = None, exit_when_idle: bool = False) -> int:
        """Claim and run jobs until ``shutdown`` (or ``max_jobs``, or an empty queue with
        ``exit_when_idle``); returns how many jobs ran."""
        done = 0
        log.info("worker %s ready (jobs: %s)", self.worker_id, ", ".join(self.handlers))
        while not self.stop.is_set():
            try:
                self.reap()
                job = claim_next_job(self.sessions, self.worker_id, kinds=self.handlers)
            except SQLAlchemyError as error:  # database away: wait and try again
                log.warning("database unavailable (%s); retrying", type(error).__name__)
                self.stop.wait(self.settings.worker_poll_seconds)
                continue
            if job is None:
                if exit_when_idle:
                    break
                self.stop.wait(self.settings.worker_poll_seconds)
                continue
            self.run_job(job)
            done += 1
            if max_jobs is not None and done >= max_jobs:
                break
        return done

    def shutdown(self, reason: str) -> None:
        """Stop after the current job, which is cancelled and given back to the queue."""
        self.stop.set()
        current = self._current
        if current is not None:
            current.cancel(reason, release=True)

    def reap(self) -> None:
        for job in reap_stale_jobs(
            self.sessions,
            self.settings.job_heartbeat_timeout_seconds,
            self.settings.job_max_attempts,
        ):
            log.warning("job %s: %s (now %s)", job.id, job.error, job.status)
        # Checkpoints of jobs that finished elsewhere (failed by a reaper, ...) are garbage.
        remove_finished_checkpoints(self.settings.bundle_root, self.sessions)

    def run_job(self, job: Job) -> None:
        context = JobContext(job, self.sessions, self.settings)
        self._current = context
        if self.stop.is_set():  # shutdown raced the claim
            context.cancel("worker is shutting down", release=True)
        finished = threading.Event()
        beats = threading.Thread(
            target=self._send_heartbeats, args=(context, finished), daemon=True
        )
        beats.start()
        try:
            with context.capturing_logs():
                log.info(
                    "job %s (%s, attempt %s) started on worker %s",
                    job.id,
                    job.kind,
                    job.attempts,
                    self.worker_id,
                )
                self._run_handler(context)
        finally:
            finished.set()
            beats.join()
            self._current = None

    def _run_handler(self, context: JobContext) -> None:
        job = context.job
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise JobFailure(f"unknown job kind '{job.kind}'")
            handler(context)
            log.info("job %s succeeded", job.id)
        except JobCancelled as cancelled:
            if context.release_on_cancel:
                with context.ending():
                    released = release_job(
                        self.sessions, context.lease, f"given back: {cancelled}", context.log.text()
                    )
                log.warning("job %s given back to the queue (%s): %s", job.id, released, cancelled)
            elif context.cancel_was_requested:
                log.warning("job %s stopped: %s", job.id, cancelled)
                with context.ending():
                    finish_cancelled(
                        self.sessions, context.lease, str(cancelled), context.log.text()
                    )
            else:
                log.error("job %s abandoned: %s", job.id, cancelled)
        except LostJobError as lost:
            log.error("job %s: results discarded: %s", job.id, lost)
        except EXPECTED_ERRORS as error:
            log.error("job %s failed: %s", job.id, error)
            with context.ending():
                fail_job(self.sessions, context.lease, str(error), log_tail=context.log.text())
        except Exception as error:
            log.error("job %s failed:\n%s", job.id, traceback.format_exc(limit=8))
            with context.ending():
                fail_job(
                    self.sessions,
                    context.lease,
                    f"{type(error).__name__}: {error}",
                    log_tail=context.log.text(),
                )

    def _send_heartbeats(self, context: JobContext, finished: threading.Event) -> None:
        while not finished.wait(self.settings.job_heartbeat_seconds):
            try:
                if not context.beat():
                    log.error("job %s: %s", context.lease.job_id, context.cancel_reason)
                    return
            except SQLAlchemyError as error:  # transient: the reaper's timeout is the limit
                log.warning("heartbeat of job %s failed: %s", context.lease.job_id, error)
