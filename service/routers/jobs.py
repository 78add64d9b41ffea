"""GET /jobs, GET /jobs/{id} and POST /jobs/{id}/cancel (admin): training and evaluation jobs."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from service.dependencies import SessionDep, require_admin
from service.routers.responses import ADMIN
from service.schemas.common import ErrorResponse
from service.schemas.jobs import JobList, JobOut
from shared.db import JobNotCancellableError, UnknownJobError
from shared.db.job_queue import cancel_job, get_job, list_jobs

router = APIRouter(
    prefix="/jobs", tags=["jobs"], dependencies=[Depends(require_admin)], responses=ADMIN
)

# Job ids are BIGINT on PostgreSQL: anything larger is no job, not a database error.
MAX_JOB_ID = 2**63 - 1
JobId = Annotated[int, Path(ge=1, le=MAX_JOB_ID)]
NOT_FOUND = {404: {"model": ErrorResponse, "description": "Unknown job."}}


@router.get("", summary="Jobs, newest first")
def get_jobs(
    session: SessionDep,
    status: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()
    ] = None,
    kind: Annotated[Literal["train", "evaluate"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_JOB_ID)] = 0,
) -> JobList:
    rows = list_jobs(session, status=status, kind=kind, limit=limit, offset=offset)
    return JobList(jobs=[JobOut.model_validate(row) for row in rows])


@router.get(
    "/{job_id}",
    summary="One job: status, progress, result, log tail",
    responses=NOT_FOUND,
)
def get_one_job(job_id: JobId, session: SessionDep) -> JobOut:
    try:
        return JobOut.model_validate(get_job(session, job_id))
    except UnknownJobError as error:
        raise HTTPException(404, str(error)) from error


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a job: a queued one at once, a running one at its worker's next heartbeat",
    responses={
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "The job already finished."},
    },
)
def cancel_one_job(job_id: JobId, session: SessionDep) -> JobOut:
    try:
        with session.begin():
            job = cancel_job(session, job_id)
    except UnknownJobError as error:
        raise HTTPException(404, str(error)) from error
    except JobNotCancellableError as error:
        raise HTTPException(409, str(error)) from error
    return JobOut.model_validate(job)
