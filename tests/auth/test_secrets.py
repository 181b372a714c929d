"""A secret is shown once and stored nowhere (app/core/secrets.py): not in any table (idempotency records
included), not in a log line, and an idempotent replay does not show it again. A key that can write is never
taken from a URL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import inspect, text

from tests.analytics.dataset import R
from tests.analytics.test_auth import ENDPOINTS as ANALYTICS
from tests.decisions.helpers import assert_problem


async def _database_text(db) -> str:  # type: ignore[no-untyped-def]
    """Every row of every table of the database, as text (binary columns decoded byte for byte)."""
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        dumped = []
        for table in tables:
            for row in await connection.execute(text(f'SELECT * FROM "{table}"')):
                dumped += [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
    return "\n".join(dumped)


async def test_a_key_created_with_an_idempotency_key_is_stored_nowhere_and_not_replayed(client_for, db, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    admin = client_for("admin")
    headers = {"Idempotency-Key": "create-bi-key"}

    created = await admin.post("/v1/keys", json={"name": "bi", "scope": "analytics"}, headers=headers)
    replayed = await admin.post("/v1/keys", json={"name": "bi", "scope": "analytics"}, headers=headers)

    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    problem = assert_problem(replayed, 409, "secret_not_replayed")
    assert replayed.headers["Location"] == created.headers["Location"] == problem["location"]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert problem["first_status"] == 201
    assert "dlk_" not in replayed.text
    stored = await _database_text(db)
    random_part = secret.split("_", 2)[2]  # dlk_<prefix>_<secret>: the secret may hold "_" too
    assert secret not in stored and random_part not in stored
    logged = capsys.readouterr().out + caplog.text
    assert secret not in logged and random_part not in logged
    listed = (await admin.get("/v1/keys")).json()
    assert [k["name"] for k in listed].count("bi") == 1  # the replay created nothing


async def test_the_replay_of_a_key_request_with_another_body_is_still_refused(client_for, db):
    admin = client_for("admin")
    headers = {"Idempotency-Key": "create-bi-key-2"}
    assert (await admin.post("/v1/keys", json={"name": "bi", "scope": "read"}, headers=headers)).status_code == 201

    response = await admin.post("/v1/keys", json={"name": "other", "scope": "read"}, headers=headers)

    assert_problem(response, 422, "idempotency_key_reused")


async def test_responses_without_a_secret_are_still_replayed_whole(client_for, db):
    admin = client_for("admin")
    created = await admin.post("/v1/keys", json={"name": "to-revoke", "scope": "read"})
    url = f"/v1/keys/{created.json()['id']}/revoke"

    first = await admin.post(url, headers={"Idempotency-Key": "revoke-1"})
    again = await admin.post(url, headers={"Idempotency-Key": "revoke-1"})

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_the_create_key_operation_documents_that_the_secret_is_not_replayed():
    from app.main import app

    operation = app.openapi()["paths"]["/v1/keys"]["post"]
    assert "409" in operation["responses"]
    assert "secret_not_replayed" in operation["description"]
    created = app.openapi()["components"]["schemas"]["ApiKeyCreated"]
    assert "secret_not_replayed" in created["properties"]["key"]["description"]


@pytest.mark.parametrize("path", ANALYTICS)
@pytest.mark.parametrize("scope", ["write", "admin"])
async def test_a_key_that_can_write_is_refused_in_the_api_key_query_parameter(anon, keys, path, scope):
    response = await anon.get(path, params={**R, "api_key": keys[scope]})

    problem = assert_problem(response, 403, "api_key_in_url_refused")
    assert "Authorization: Bearer" in problem["detail"]
    assert keys[scope] not in response.text


@pytest.mark.parametrize("scope", ["write", "admin"])
async def test_a_key_that_can_write_still_works_in_a_header_on_analytics(client_for, scope):
    response = await client_for(scope).get("/v1/analytics/summary", params=R)

    assert response.status_code == 200, response.text
