"""The migration that clears the API keys idempotency records stored before responses with a secret were kept
without their body (alembic/versions/20261207_1200_scrub_stored_secrets.py), on both engines."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.core.engine import create_engine
from app.core.migrations import alembic_config, upgrade
from tests.test_migrations import fresh_url  # noqa: F401 - the fixture: a database of its own

SCRUB = "6b2d9e4f7a13"


def _run(url: str, statement: str, rows: list[dict[str, Any]] | None = None) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url=url)
        try:
            async with engine.begin() as connection:
                result = await (
                    connection.execute(sa.text(statement), rows) if rows else connection.execute(sa.text(statement))
                )
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_stored_responses_that_created_a_key_lose_their_body(fresh_url: str) -> None:  # noqa: F811
    before = ScriptDirectory.from_config(alembic_config()).get_revision(SCRUB).down_revision
    upgrade(fresh_url, str(before))
    now = datetime.now(UTC).replace(tzinfo=None)  # bound as naive UTC on both engines, as the service stores it
    key_body = json.dumps({"id": "k", "key": "dlk_0123456789ab_secret-part"}).encode()
    decision_body = json.dumps({"id": "d", "title": "Kept"}).encode()
    records = [
        ("create-key", {"location": "/v1/keys/01963b9e", "content-type": "application/json"}, key_body),
        ("create-decision", {"location": "/v1/decisions/01963b9e", "content-type": "application/json"}, decision_body),
    ]
    _run(
        fresh_url,
        "INSERT INTO idempotency_record (api_key_id, key, fingerprint, created_at, expires_at, response_status, "
        "response_headers, response_body) VALUES (:api_key_id, :key, 'f', :now, :later, 201, :headers, :body)",
        [
            {
                "api_key_id": uuid.uuid4().hex if "sqlite" in fresh_url else uuid.uuid4(),
                "key": key,
                "now": now,
                "later": now + timedelta(days=1),
                "headers": json.dumps(headers),
                "body": body,
            }
            for key, headers, body in records
        ],
    )

    upgrade(fresh_url, SCRUB)

    stored = dict(_run(fresh_url, "SELECT key, response_body FROM idempotency_record"))
    assert stored["create-key"] is None
    assert bytes(stored["create-decision"]) == decision_body
