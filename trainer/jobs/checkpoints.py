"""Train jobs' checkpoint folders (``<bundle root>/.checkpoints/job-<id>``) outlive a dead
worker on purpose, so that the job's next attempt resumes; once the job is finished (it
succeeded, or failed for good) nothing will resume, and a worker removes the folder."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.db import Job, JobStatus

log = logging.getLogger("trainer.jobs.checkpoints")

CHECKPOINTS = ".checkpoints"
PREFIX = "job-"


def checkpoint_root(bundle_root: Path) -> Path:
    return Path(bundle_root) / CHECKPOINTS


def job_checkpoint_folder(bundle_root: Path, job_id: int) -> Path:
    return checkpoint_root(bundle_root) / f"{PREFIX}{job_id}"


def remove_finished_checkpoints(bundle_root: Path, sessions: sessionmaker[Session]) -> list[int]:
    """Delete the checkpoint folders of finished jobs (and of jobs no longer in the database);
    returns their job ids."""
    root = checkpoint_root(bundle_root)
    try:
        folders = {
            int(entry.name.removeprefix(PREFIX)): entry
            for entry in root.iterdir()
            if entry.is_dir() and entry.name.removeprefix(PREFIX).isdigit()
        }
    except FileNotFoundError:
        return []
    if not folders:
        return []
    with sessions() as session:
        open_jobs = set(
            session.scalars(
                select(Job.id).where(
                    Job.id.in_(folders),
                    Job.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]),
                )
            )
        )
    removed = sorted(set(folders) - open_jobs)
    for job_id in removed:
        shutil.rmtree(folders[job_id], ignore_errors=True)
        log.info("removed the checkpoint of finished job %s", job_id)
    return removed
