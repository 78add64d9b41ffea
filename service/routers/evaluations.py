"""POST /evaluations (admin) and GET /models/{id}/evaluations: offline metrics per version."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from sqlalchemy import select

from service.dependencies import SessionDep, require_admin
from service.routers.responses import ADMIN
from service.schemas.common import EXTERNAL_ID_PATTERN, ErrorResponse
from service.schemas.evaluations import EvaluationList, EvaluationOut
from service.schemas.jobs import EvaluationRequest, JobAccepted
from shared.db import Evaluation, JobKind, ModelVersion
from shared.db.job_queue import enqueue_job

router = APIRouter(tags=["evaluations"])

NOT_FOUND = {404: {"model": ErrorResponse, "description": "Unknown model version."}}


@router.post(
    "/evaluations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Queue an evaluation of a model version (Recall/NDCG/HitRate@5/10/20/40)",
    dependencies=[Depends(require_admin)],
    responses={**ADMIN, **NOT_FOUND},
)
def request_evaluation(
    request: EvaluationRequest, session: SessionDep, response: Response
) -> JobAccepted:
    with session.begin():
        if session.get(ModelVersion, request.model_version) is None:
            raise HTTPException(404, f"model version {request.model_version!r} is not registered")
        job = enqueue_job(
            session,
            JobKind.EVALUATE,
            {"model_version": request.model_version},
            model_version=request.model_version,
        )
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobAccepted(job_id=job.id, kind=job.kind, status=job.status)


@router.get(
    "/models/{model_id}/evaluations",
    summary="Stored offline metrics of a model version, one entry per evaluation job",
    responses=NOT_FOUND,
)
def list_evaluations(
    model_id: Annotated[str, Path(min_length=1, max_length=200, pattern=EXTERNAL_ID_PATTERN)],
    session: SessionDep,
) -> EvaluationList:
    if session.get(ModelVersion, model_id) is None:
        raise HTTPException(404, f"model version {model_id!r} is not registered")
    rows = session.scalars(
        select(Evaluation)
        .where(Evaluation.model_version == model_id)
        .order_by(Evaluation.created_at, Evaluation.id)
    )
    grouped: dict[int | None, list[Evaluation]] = defaultdict(list)
    for row in rows:
        grouped[row.job_id].append(row)
    evaluations = []
    for job_id, group in grouped.items():
        metrics: dict[str, dict[str, float]] = defaultdict(dict)
        for row in group:
            metrics[row.split][f"{row.metric}@{row.k}"] = row.value
        evaluations.append(
            EvaluationOut(
                job_id=job_id,
                model_version=model_id,
                dataset=group[0].dataset,
                created_at=group[0].created_at,
                metrics=dict(metrics),
            )
        )
    return EvaluationList(model_version=model_id, evaluations=evaluations)
