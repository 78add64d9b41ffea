"""The job queue in the database: enqueue, claim, heartbeat, finish, reap.

Every state change is a conditional UPDATE (compare and set on status and claim), so it is
correct on SQLite, which has no row locks, as well as on PostgreSQL, where claiming also
uses ``SELECT ... FOR UPDATE SKIP LOCKED`` so that concurrent workers skip each other's
candidate instead of queueing behind it. A claim is identified by ``(worker_id, attempts)``:
once a job is reaped (its heartbeats stopped) and re-queued, the old claim can write nothing,
so a job's results are recorded at most once even if a stalled worker wakes up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.db.base import utc_now
from shared.db.errors import JobNotCancellableError, LostJobError, UnknownJobError
from shared.db.job import FINISHED_STATUSES, Job, JobKind, JobStatus

# Log tails are kept to this many characters (the end of the log).
LOG_TAIL_CHARS = 8000


@dataclass(frozen=True)
class JobLease:
    """A worker's claim on a job: valid while the row still names this worker and attempt."""

    job_id: int
    worker_id: str
    attempt: int


def lease_of(job: Job) -> JobLease:
    if job.worker_id is None:
        raise ValueError(f"job {job.id} is not claimed")
    return JobLease(job.id, job.worker_id, job.attempts)


def _owned(lease: JobLease):
    return (
        Job.id == lease.job_id,
        Job.worker_id == lease.worker_id,
        Job.attempts == lease.attempt,
        Job.status == JobStatus.RUNNING.value,
    )


def _update_owned(sessions: sessionmaker[Session], lease: JobLease, values: dict[str, Any]) -> bool:
    """Update the job if ``lease`` still holds its claim; False if the claim was lost."""
    with sessions() as session, session.begin():
        updated = session.execute(
            update(Job)
            .where(*_owned(lease))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    return updated == 1


def _tail(text: str) -> str:
    return text[-LOG_TAIL_CHARS:]


# -- API side --------------------------------------------------------------------------------
def enqueue_job(
    session: Session,
    kind: JobKind,
    params: dict[str, Any],
    *,
    model_version: str | None = None,
) -> Job:
    """Add a queued job in ``session``'s transaction; its id is set on return."""
    job = Job(
        kind=kind.value,
        status=JobStatus.QUEUED.value,
        params=params,
        result={},
        progress=0.0,
        attempts=0,
        model_version=model_version,
        created_at=utc_now(),
        log_tail="",
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise UnknownJobError(f"job {job_id} does not exist")
    return job


def list_jobs(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Job]:
    """Jobs, newest first."""
    query = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def cancel_job(session: Session, job_id: int) -> Job:
    """Cancel a job in ``session``'s transaction: a queued one is cancelled at once (no worker
    will claim it); a running one is marked ``cancel_requested_at`` and its worker stops it at
    its next heartbeat. ``JobNotCancellableError`` if it already finished; asking twice is
    harmless."""
    now = utc_now()
    for _ in range(3):  # the job may change status (claimed, finished) between read and write
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            raise UnknownJobError(f"job {job_id} does not exist")
        if JobStatus(job.status) in FINISHED_STATUSES:
            raise JobNotCancellableError(f"job {job_id} already {job.status}: nothing to cancel")
        if job.status == JobStatus.QUEUED.value:
            values: dict[str, Any] = {
                "status": JobStatus.CANCELLED.value,
                "cancel_requested_at": now,
                "finished_at": now,
                "error": "cancelled by an admin before a worker started it",
            }
        else:
            values = {"cancel_requested_at": job.cancel_requested_at or now}
        changed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == job.status, Job.attempts == job.attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            return session.get(Job, job_id, populate_existing=True)
    raise JobNotCancellableError(f"job {job_id} keeps changing state; try again")


# -- worker side -----------------------------------------------------------------------------
def claim_next_job(
    sessions: sessionmaker[Session], worker_id: str, kinds: Iterable[str] | None = None
) -> Job | None:
    """Claim the oldest queued job for ``worker_id`` (status running, attempts + 1), or None."""
    kinds = list(kinds) if kinds is not None else None
    for _ in range(20):  # only SQLite loses races here: retry with the next candidate
        with sessions() as session, session.begin():
            query = (
                select(Job.id)
                .where(Job.status == JobStatus.QUEUED.value)
                .order_by(Job.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if kinds is not None:
                query = query.where(Job.kind.in_(kinds))
            candidate = session.scalars(query).first()
            if candidate is None:
                return None
            now = utc_now()
            claimed = session.execute(
                update(Job)
                .where(Job.id == candidate, Job.status == JobStatus.QUEUED.value)
                .values(
                    status=JobStatus.RUNNING.value,
                    worker_id=worker_id,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    heartbeat_at=now,
                    finished_at=None,
                    progress=0.0,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                return session.get(Job, candidate, populate_existing=True)
    return None


def _heartbeat_values(progress: float | None, log_tail: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"heartbeat_at": utc_now()}
    if progress is not None:
        values["progress"] = min(max(float(progress), 0.0), 1.0)
    if log_tail is not None:
        values["log_tail"] = _tail(log_tail)
    return values


def heartbeat(
    sessions: sessionmaker[Session],
    lease: JobLease,
    *,
    progress: float | None = None,
    log_tail: str | None = None,
) -> bool:
    """Record that the claim is alive (with progress and log tail); False if it was lost."""
    return _update_owned(sessions, lease, _heartbeat_values(progress, log_tail))


@dataclass(frozen=True)
class Heartbeat:
    """What a heartbeat learnt: whether the claim holds, and whether to stop the job."""

    alive: bool
    cancel_requested: bool  # an admin asked to cancel the job (POST /jobs/{id}/cancel)


def send_heartbeat(
    sessions: sessionmaker[Session],
    lease: JobLease,
    *,
    progress: float | None = None,
    log_tail: str | None = None,
) -> Heartbeat:
    """``heartbeat`` that also answers whether cancellation was requested, in the same
    UPDATE (RETURNING): cancelling costs a running job no extra query."""
    with sessions() as session, session.begin():
        row = session.execute(
            update(Job)
            .where(*_owned(lease))
            .values(**_heartbeat_values(progress, log_tail))
            .returning(Job.cancel_requested_at)
            .execution_options(synchronize_session=False)
        ).first()
    if row is None:
        return Heartbeat(alive=False, cancel_requested=False)
    return Heartbeat(alive=True, cancel_requested=row[0] is not None)


def finish_cancelled(
    sessions: sessionmaker[Session], lease: JobLease, reason: str, log_tail: str | None = None
) -> bool:
    """Mark a job whose cancellation was requested as cancelled, once its worker stopped it;
    False if the claim was already lost."""
    values: dict[str, Any] = {
        "status": JobStatus.CANCELLED.value,
        "error": reason,
        "finished_at": utc_now(),
    }
    if log_tail is not None:
        values["log_tail"] = _tail(log_tail)
    return _update_owned(sessions, lease, values)


def owned_job(session: Session, lease: JobLease) -> Job:
    """The job row, locked until ``session``'s transaction ends, if the claim still holds;
    ``LostJobError`` otherwise. Results are written in that same transaction."""
    job = session.scalars(
        select(Job)
        .where(*_owned(lease))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if job is None:
        raise LostJobError(
            f"job {lease.job_id}: the claim of worker {lease.worker_id} (attempt "
            f"{lease.attempt}) is gone; its heartbeats stopped and the job was reaped"
        )
    return job


def complete_job(
    session: Session,
    lease: JobLease,
    result: dict[str, Any],
    *,
    model_version: str | None = None,
    log_tail: str | None = None,
) -> Job:
    """Mark the job succeeded in ``session``'s transaction (``LostJobError`` if not owned)."""
    job = owned_job(session, lease)
    now = utc_now()
    job.status = JobStatus.SUCCEEDED.value
    job.progress = 1.0
    job.result = result
    job.error = None
    job.finished_at = now
    job.heartbeat_at = now
    if model_version is not None:
        job.model_version = model_version
    if log_tail is not None:
        job.log_tail = _tail(log_tail)
    session.flush()
    return job


def fail_job(
    sessions: sessionmaker[Session],
    lease: JobLease,
    error: str,
    *,
    result: dict[str, Any] | None = None,
    log_tail: str | None = None,
) -> bool:
    """Mark the job failed with ``error``; False if the claim was already lost."""
    values: dict[str, Any] = {
        "status": JobStatus.FAILED.value,
        "error": error,
        "finished_at": utc_now(),
    }
    if result is not None:
        values["result"] = result
    if log_tail is not None:
        values["log_tail"] = _tail(log_tail)
    return _update_owned(sessions, lease, values)


def release_job(
    sessions: sessionmaker[Session], lease: JobLease, reason: str, log_tail: str | None = None
) -> bool:
    """Put a claimed job back in the queue without counting the attempt (graceful worker
    shutdown); False if the claim was already lost."""
    values: dict[str, Any] = {
        "status": JobStatus.QUEUED.value,
        "worker_id": None,
        "attempts": Job.attempts - 1,
        "progress": 0.0,
        "error": reason,
    }
    if log_tail is not None:
        values["log_tail"] = _tail(log_tail)
    return _update_owned(sessions, lease, values)


def reap_stale_jobs(
    sessions: sessionmaker[Session],
    timeout_seconds: float,
    max_attempts: int,
    *,
    now: datetime | None = None,
) -> list[Job]:
    """Running jobs without a heartbeat for ``timeout_seconds``: their worker died or hangs.

    Each is re-queued if it has been started fewer than ``max_attempts`` times, else failed.
    Safe to run from every API process and worker at once: each change is conditional on the
    stale claim, so a job is reaped once and a job that just finished is left alone.
    """
    now = now or utc_now()
    cutoff = now - timedelta(seconds=timeout_seconds)
    reaped: list[Job] = []
    with sessions() as session:
        stale = session.execute(
            select(
                Job.id, Job.worker_id, Job.attempts, Job.heartbeat_at, Job.cancel_requested_at
            ).where(Job.status == JobStatus.RUNNING.value, Job.heartbeat_at < cutoff)
        ).all()
    for job_id, worker_id, attempts, last_beat, cancel_requested_at in stale:
        silent = f"worker {worker_id} sent no heartbeat since {last_beat.isoformat()}"
        if cancel_requested_at is not None:  # an admin wanted it stopped: do not run it again
            status = JobStatus.CANCELLED
            message = f"attempt {attempts} lost: {silent}; cancelled as an admin requested"
        elif attempts < max_attempts:
            status = JobStatus.QUEUED
            message = f"attempt {attempts} lost: {silent}; re-queued"
        else:
            status = JobStatus.FAILED
            message = (
                f"attempt {attempts} lost: {silent} (no heartbeat for {timeout_seconds:g} s); "
                f"failed after {attempts} attempt(s)"
            )
        with sessions() as session, session.begin():
            changed = session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.status == JobStatus.RUNNING.value,
                    Job.worker_id == worker_id,
                    Job.attempts == attempts,
                    Job.heartbeat_at < cutoff,
                )
                .values(
                    status=status.value,
                    error=message,
                    worker_id=None if status is JobStatus.QUEUED else worker_id,
                    finished_at=None if status is JobStatus.QUEUED else now,
                    progress=0.0 if status is JobStatus.QUEUED else Job.progress,
                    log_tail=Job.log_tail + f"\n[reaper] {message}",
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed == 1:
                reaped.append(session.get(Job, job_id, populate_existing=True))
    return reaped
