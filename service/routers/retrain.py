"""POST /retrain (admin): queue a training job for a worker."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from service.dependencies import SessionDep, require_admin
from service.routers.responses import ADMIN
from service.schemas.jobs import JobAccepted, RetrainRequest
from shared.db import JobKind
from shared.db.job_queue import enqueue_job

router = APIRouter(tags=["jobs"])


@router.post(
    "/retrain",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a training run: new bundle, registered, evaluated, optionally activated",
    dependencies=[Depends(require_admin)],
    responses=ADMIN,
)
def retrain(request: RetrainRequest, session: SessionDep, response: Response) -> JobAccepted:
    # The API only writes the job row (it never imports torch); a worker trains.
    with session.begin():
        job = enqueue_job(session, JobKind.TRAIN, request.model_dump())
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobAccepted(job_id=job.id, kind=job.kind, status=job.status)
