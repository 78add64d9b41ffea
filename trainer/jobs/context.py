"""What a running job sees: its claim, progress and log tail, and a cancellation flag."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from shared.db import Job
from shared.db.job_queue import LOG_TAIL_CHARS, JobLease, lease_of, send_heartbeat
from shared.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JobCancelled(Exception):
    """The job must stop now: its claim was lost, the worker is shutting down, or an admin
    cancelled it (``POST /jobs/{id}/cancel``)."""


class JobFailure(Exception):
    """A job cannot succeed for a reason worth showing as is (bad input, missing data)."""


class LogTail(logging.Handler):
    """Keeps the last lines logged while a job runs (the job's ``log_tail``)."""

    def __init__(self, max_lines: int = 200) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._lock_lines = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken record must not break the job
            return
        with self._lock_lines:
            self._lines.append(line)

    def text(self) -> str:
        with self._lock_lines:
            return "\n".join(self._lines)[-LOG_TAIL_CHARS:]


class JobContext:
    """One claimed job, as the handler and the heartbeat thread share it."""

    def __init__(self, job: Job, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.job = job
        self.lease: JobLease = lease_of(job)
        self.sessions = sessions
        self.settings = settings
        self.progress = 0.0
        self.log = LogTail()
        self._cancelled = threading.Event()
        self.cancel_reason: str | None = None
        self.release_on_cancel = False  # shutdown: give the job back instead of failing it
        self.cancel_was_requested = False  # an admin cancelled it: it ends as cancelled
        # Serialises heartbeats with the transaction that ends the job, so that a heartbeat
        # right after that commit is not mistaken for a lost claim.
        self._ending = threading.Lock()
        self.ended = False

    def report(self, progress: float) -> None:
        self.progress = min(max(progress, 0.0), 1.0)

    def cancel(self, reason: str, *, release: bool = False, requested: bool = False) -> None:
        if not self._cancelled.is_set():
            self.cancel_reason = reason
            self.release_on_cancel = release
            self.cancel_was_requested = requested
            self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        """Raise ``JobCancelled`` if the job must stop (cheap: called every training step)."""
        if self._cancelled.is_set():
            raise JobCancelled(self.cancel_reason or "cancelled")

    @contextmanager
    def ending(self) -> Iterator[None]:
        """Wrap the transaction that ends the job (succeeded, failed, given back): no heartbeat
        runs meanwhile, and none after it committed."""
        with self._ending:
            yield
            self.ended = True

    def beat(self) -> bool:
        """Write a heartbeat with progress and log tail; on a lost claim, or when an admin
        asked to cancel the job, cancel it (the handler stops at its next check)."""
        with self._ending:
            if self.ended:
                return True
            answer = send_heartbeat(
                self.sessions, self.lease, progress=self.progress, log_tail=self.log.text()
            )
        alive = answer.alive
        if answer.cancel_requested:
            job_id = self.lease.job_id
            self.cancel(
                f"job {job_id} cancelled as an admin asked (POST /jobs/{job_id}/cancel)",
                requested=True,
            )
        if not alive:
            self.cancel(
                f"the claim on job {self.lease.job_id} (attempt {self.lease.attempt}) was lost: "
                "heartbeats arrived too late and the job was reaped"
            )
        return alive

    @contextmanager
    def capturing_logs(self) -> Iterator[None]:
        """Send the process's log records (INFO and up) to this job's log tail meanwhile."""
        root = logging.getLogger()
        trainer = logging.getLogger("trainer")
        level = trainer.level
        if trainer.getEffectiveLevel() > logging.INFO:
            trainer.setLevel(logging.INFO)  # the epoch lines belong in the tail
        root.addHandler(self.log)
        try:
            yield
        finally:
            root.removeHandler(self.log)
            trainer.setLevel(level)
