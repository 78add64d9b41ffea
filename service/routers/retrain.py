"""POST /retrain (admin): queue a training job for a worker."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status
from fastapi.exceptions import RequestValidationError

from service.dependencies import SessionDep, SettingsDep, require_admin
from service.routers.responses import ADMIN
from service.schemas.jobs import JobAccepted, RetrainRequest
from shared.db import JobKind
from shared.db.job_queue import enqueue_job
from shared.input_paths import InputPathError, confine_load_options

router = APIRouter(tags=["jobs"])


@router.post(
    "/retrain",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue a training run: new bundle, registered, evaluated, optionally activated",
    dependencies=[Depends(require_admin)],
    responses=ADMIN,
)
def retrain(
    request: RetrainRequest, session: SessionDep, settings: SettingsDep, response: Response
) -> JobAccepted:
    # Input files only from the configured folders; the job stores the resolved paths.
    try:
        load_options = confine_load_options(request.load_options, settings.input_roots())
    except InputPathError as error:
        # The usual 422 (detail list and message), never echoing the path.
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", "load_options"), "msg": str(error)}]
        ) from error
    # The API only writes the job row (it never imports torch); a worker trains.
    with session.begin():
        params = {**request.model_dump(), "load_options": load_options}
        job = enqueue_job(session, JobKind.TRAIN, params)
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobAccepted(job_id=job.id, kind=job.kind, status=job.status)
