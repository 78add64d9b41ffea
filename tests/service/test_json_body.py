"""service/routers/body.py reads a body as FastAPI would: every outcome (status and body)
equals FastAPI's own handling of the same model declared as a body parameter."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from service.exception_handlers import install_exception_handlers
from service.limits.body_size import RequestBodyLimit
from service.routers.body import json_body, json_body_openapi
from service.schemas.recommend import RecommendRequest


def _app() -> FastAPI:
    app = FastAPI()
    install_exception_handlers(app)
    app.add_middleware(RequestBodyLimit, max_bytes=2000)

    @app.post("/declared")
    async def declared(body: RecommendRequest) -> dict:
        return body.model_dump()

    @app.post("/read", openapi_extra=json_body_openapi(RecommendRequest))
    async def read(request: Request) -> dict:
        return (await json_body(request, RecommendRequest)).model_dump()

    return app


JSON = {"content-type": "application/json"}
CASES = [
    (b'{"user_id": "u1", "k": 3}', JSON),
    (b'{"user_id": "u1", "k": 3, "objectives": {"buy": 1, "cart": 0.5}}', JSON),
    (b'{"user_id": "u1"}', {"content-type": "application/vnd.api+json; charset=utf-8"}),
    (b"", JSON),
    (b"null", JSON),
    (b"[]", JSON),
    (b'"u1"', JSON),
    (b'{"user_id": "u1", "k": "3"}', JSON),
    (b'{"user_id": "u1", "k": 0}', JSON),
    (b'{"user_id": "u1", "k": 3.5}', JSON),
    (b'{"user_id": "u1", "extra": 1}', JSON),
    (b'{"user_id": "", "exclude": [1, 2]}', JSON),
    (b'{"user_id": "u1", "objectives": {"buy": 0}}', JSON),
    (b'{"user_id": "u1", "objectives": {"buy": -1, "cart": NaN}}', JSON),
    (b'{"user_id": "u1"', JSON),
    (b"{'user_id': 'u1'}", JSON),
    (b'{"user_id": "\\ud800"}', JSON),
    (b'{"user_id": "u1"}', {}),
    (b'{"user_id": "u1"}', {"content-type": "text/plain"}),
    (b"\xff\xfe\x00garbage", JSON),
    (b"[" * 100_000, JSON),
    (b'{"user_id": "u1", "exclude": ["' + b"x" * 3000 + b'"]}', JSON),
]


@pytest.mark.parametrize(("body", "headers"), CASES)
def test_reading_a_body_answers_as_fastapi_does(body, headers):
    client = TestClient(_app(), raise_server_exceptions=False)
    expected = client.post("/declared", content=body, headers=headers)
    answer = client.post("/read", content=body, headers=headers)
    assert answer.status_code == expected.status_code
    assert answer.json() == expected.json()


def test_the_body_is_documented_as_declared():
    schema = _app().openapi()
    declared = schema["paths"]["/declared"]["post"]["requestBody"]
    read = schema["paths"]["/read"]["post"]["requestBody"]
    assert read == declared
    assert "RecommendRequest" in schema["components"]["schemas"]


def test_a_streamed_body_over_the_limit_is_a_413_as_with_fastapi():
    client = TestClient(_app(), raise_server_exceptions=False)
    body = b'{"user_id": "u1", "exclude": [' + b", ".join([b'"i1"'] * 600) + b"]}"

    def chunks():  # no Content-Length: the limit counts while the body streams in
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    expected = client.post("/declared", content=chunks(), headers=JSON)
    answer = client.post("/read", content=chunks(), headers=JSON)
    assert expected.status_code == answer.status_code == 413
    assert answer.json() == expected.json()
