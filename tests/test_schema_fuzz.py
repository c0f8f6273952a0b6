"""Schemathesis over the whole OpenAPI document, with an administrator's bearer token:
no request, whether the schema allows it or not, gets a 5xx, and every answer (status,
content type, body, headers) is one the schema describes.

The document is built at import, from the app: Schemathesis parametrizes tests when they
are collected, before any server runs (its lazy ``from_fixture`` loader fails under pytest
9.2). A test checks it is the document the server serves.
SQLite only: the API is the same on PostgreSQL, and the run is kept under a minute.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from counterline.accounts.actions import create_api_token, get_user_named
from counterline.app import create_app
from counterline.config import Settings
from counterline.services import Services
from tests.cast import Cast
from tests.conftest import BACKEND

DOCUMENT = json.loads(
    json.dumps(create_app(Settings(database_url="sqlite+aiosqlite://")).openapi())
)
schema = schemathesis.openapi.from_dict(DOCUMENT)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
FUZZER = "chengang"  # an administrator: every operation is open to him


async def issue_token(settings: Settings, username: str) -> tuple[int, str]:
    services = Services.from_settings(settings)
    try:
        async with services.transaction() as unit:
            secret, token = await create_api_token(unit, await get_user_named(unit, username))
        return token.id, secret
    finally:
        await services.database.dispose()


@pytest.fixture
def fuzzer_token(server, make_settings: Callable[..., Settings]) -> tuple[int, str]:
    return asyncio.run(issue_token(make_settings(), FUZZER))


async def test_the_fuzzed_document_is_the_one_the_server_serves(server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        served = await http.get("/api/v1/openapi.json")
    assert served.json() == DOCUMENT


def stated(model: str, field: str) -> dict[str, Any]:
    return DOCUMENT["components"]["schemas"][model]["properties"][field]


async def test_the_lengths_the_schema_states_are_the_ones_the_server_keeps(
    login, cast: Cast
) -> None:
    zhang = await login("zhangwei")
    body, name = stated("MessageIn", "body"), stated("TopicRoomIn", "name")
    bodies = ["字" * body["maxLength"], "字" * (body["maxLength"] + 1), "", " \n"]
    names = ["名" * name["maxLength"], "名" * (name["maxLength"] + 1), "", " \t"]
    posted = [
        await zhang.post_message(cast.company_room_id, text, f"stated-length-{number}")
        for number, text in enumerate(bodies)
    ]
    created = [
        await zhang.http.post(
            "/api/v1/rooms", json={"name": text}, headers={"X-CSRF-Token": zhang.csrf_token}
        )
        for text in names
    ]
    assert name["minLength"] == 1
    assert name["pattern"] == r"\S"  # not only whitespace
    # A message body may be empty when the message has attachments (then only those are
    # shown); without them, empty or blank bodies are refused all the same (below).
    assert "minLength" not in body and "pattern" not in body
    assert [response.status_code for response in posted] == [201, 400, 400, 400]
    assert [response.status_code for response in created] == [201, 400, 400, 400]


@pytest.mark.skipif(
    BACKEND != "sqlite", reason="schemathesis runs on the SQLite pass only (same API, bounded time)"
)
@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_only_as_the_schema_says(
    case: schemathesis.Case, server, fuzzer_token: tuple[int, str]
) -> None:
    token_id, secret = fuzzer_token
    if case.path_parameters and case.path_parameters.get("token_id") == token_id:
        case.path_parameters["token_id"] = token_id + 1  # revoking its own token ends the run
    case.call_and_validate(
        base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS
    )
