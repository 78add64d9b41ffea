"""Odd input is a 4xx with a readable message, never a 500 (issue 13 items 1, 2, 4; issue 18
item 9). Bodies are sent as raw text, since that is the only way to spell NaN or a lone
surrogate: a JSON encoder on the client side would refuse them."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import ADMIN, CLIENT


def _post_raw(client, path: str, text: str, headers: dict | None = None):
    return client.post(
        path, content=text.encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )


def _assert_readable_422(response) -> dict:
    assert response.status_code == 422, response.text
    body = json.loads(response.content.decode("utf-8"))  # strict: the answer is valid JSON
    assert body["message"].startswith("invalid request: ")
    for error in body["detail"]:
        assert "input" not in error  # the request's values are never echoed
    return body


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_a_422(keyed_client, number):
    # Feedback needs the client key, so every request carries it.
    body = _assert_readable_422(
        _post_raw(keyed_client, "/recommend", f'{{"user_id": "u1", "k": {number}}}', CLIENT)
    )
    assert "k" in body["message"]
    nested = f'{{"requests": [{{"user_id": "u1", "k": {number}}}]}}'
    _assert_readable_422(_post_raw(keyed_client, "/recommend/batch", nested, CLIENT))
    feedback = f'[{{"user_id": "u1", "item_id": "i1", "rating": {number}}}]'
    body = _assert_readable_422(_post_raw(keyed_client, "/feedback", feedback, CLIENT))
    assert "rating" in body["message"]


@pytest.mark.parametrize(
    ("path", "text", "field"),
    [
        ("/recommend", '{"user_id": "\\ud800x"}', "user_id"),
        ("/recommend", '{"user_id": "new", "history": ["\\udfff"]}', "history.0"),
        ("/recommend", '{"user_id": "new", "exclude": ["i1", "a\\ud800"]}', "exclude.1"),
        ("/feedback", '[{"user_id": "u1", "item_id": "\\ud800"}]', "item_id"),
        ("/recommend", '{"user_id": "u1", "\\ud800": 1}', "body"),
    ],
)
def test_lone_surrogates_are_a_422(keyed_client, path, text, field):
    body = _assert_readable_422(_post_raw(keyed_client, path, text, CLIENT))
    if field != "body":
        assert field in body["message"]
        assert "surrogate" in body["message"]


def test_blank_and_control_character_ids_are_explained_in_words(client):
    blank = _assert_readable_422(client.post("/recommend", json={"user_id": "   "}))
    assert "user_id: the id is blank" in blank["message"]
    control = _assert_readable_422(client.post("/recommend", json={"user_id": "a\x00b"}))
    assert "control character" in control["message"]
    for body in (blank, control):
        assert "^[" not in body["message"] and "\\x00" not in body["message"]
    path = _assert_readable_422(client.get("/items/%20/similar"))
    assert "blank or contains a control character" in path["message"]
    assert "^[" not in path["message"]


def test_popular_score_is_documented_as_an_interaction_count(client):
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "training interactions" in schema["ScoredItem"]["properties"]["score"]["description"]


def test_a_path_the_file_system_refuses_is_a_400(client, bundle_root):
    too_long = str(bundle_root / ("a" * 300) / "bundle")
    response = client.post("/models", json={"path": too_long}, headers=ADMIN)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "File name too long" in detail
    assert "a" * 300 not in detail  # the reason, not the client's path back


def test_a_huge_invalid_value_is_not_echoed(client):
    response = client.post("/recommend", json={"user_id": "x" * 200_000})
    body = _assert_readable_422(response)
    assert "longer than 256" in body["message"]
    assert len(response.content) < 2_000


@pytest.mark.parametrize(
    "text",
    [
        '{"dataset": "\\ud800x"}',
        '{"dataset": "office", "method": "\\udfff"}',
        '{"dataset": "office", "hyperparameters": {"\\ud800": 1}}',
    ],
)
def test_lone_surrogates_quoted_by_a_validator_are_a_422(client, text):
    # The retrain validators quote the bad value in their message, and pydantic cannot
    # encode that message: the refusal must still be a 422.
    body = _assert_readable_422(_post_raw(client, "/retrain", text, headers=ADMIN))
    assert "not valid Unicode" in body["message"]
