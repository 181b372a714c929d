"""Keys bound to a person, and keys that expire: attribution of what they write, reviews, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.auth.test_cli_keys import run_cli, unique_name
from tests.conftest import make_client
from tests.decisions.helpers import assert_problem, error_at


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def _person_key(admin, handle: str = "anna.petrova", **extra: object) -> dict:
    body = {"name": f"{handle}-laptop", "scope": "write", "person": handle, **extra}
    created = await admin.post("/v1/keys", json=body)
    assert created.status_code == 201, created.text
    return created.json()


async def test_key_created_for_a_person_with_an_expiry_shows_both(client, client_for):
    await factories.basics(client)
    admin = client_for("admin")
    expires_at = _in(86_400)
    body = await _person_key(admin, expires_at=expires_at)
    assert body["person"] == "anna.petrova"
    assert datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) == datetime.fromisoformat(
        expires_at.replace("Z", "+00:00")
    )
    listed = next(k for k in (await admin.get("/v1/keys")).json() if k["id"] == body["id"])
    assert (listed["person"], listed["expires_at"]) == (body["person"], body["expires_at"])
    plain = (await admin.post("/v1/keys", json={"name": "plain", "scope": "read"})).json()
    assert (plain["person"], plain["expires_at"]) == (None, None)


async def test_key_for_an_unknown_person_or_expiring_in_the_past_is_refused(client_for, db):
    admin = client_for("admin")
    unknown = await admin.post("/v1/keys", json={"name": "x", "scope": "write", "person": "nobody"})
    body = assert_problem(unknown, 422, "unknown_reference")
    assert "nobody" in error_at(body, ["body", "person"])["msg"]
    past = await admin.post("/v1/keys", json={"name": "x", "scope": "write", "expires_at": "2020-01-01T00:00:00Z"})
    error_at(assert_problem(past, 422, "validation_failed"), ["body", "expires_at"])
    listed = (await admin.get("/v1/keys")).json()
    assert not any(k["name"] == "x" for k in listed)


async def test_what_a_person_key_writes_is_attributed_to_the_person(app_instance, client, client_for):
    await factories.basics(client)
    key = (await _person_key(client_for("admin")))["key"]
    async with make_client(app_instance, key) as anna:
        created = await factories.decision(anna)
        assert created["recorded_by"] == "anna.petrova"
        edited = await factories.edit(anna, created["id"], title="Move 25% of display budget to paid search")
        assert edited["recorded_by"] == "anna.petrova"  # who recorded the decision stays
    other = await factories.edit(client, created["id"], title="Move 30% of display budget to paid search")
    assert other["recorded_by"] == "anna.petrova"
    revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
    assert [(r["recorded_by"], r["changed_by"]) for r in revisions] == [
        ("anna.petrova", "anna.petrova-laptop"),
        ("anna.petrova", "anna.petrova-laptop"),
        ("test-write", "test-write"),
    ]
    assert revisions[0]["decision"]["recorded_by"] == "anna.petrova"
    by_plain_key = await factories.decision(client, title="Pause display")
    assert by_plain_key["recorded_by"] == "test-write"


async def test_review_without_reviewer_takes_the_keys_person_or_is_refused(app_instance, client, client_for):
    await factories.basics(client)
    first = await factories.decision(client)
    second = await factories.decision(client, title="Pause display")
    key = (await _person_key(client_for("admin"), "boris.ivanov"))["key"]
    async with make_client(app_instance, key) as boris:
        reviewed = await boris.post(f"/v1/decisions/{first['id']}/outcome", json={"result": "success"})
        assert reviewed.status_code == 201, reviewed.text
        assert reviewed.json()["outcome"]["reviewed_by"] == "boris.ivanov"
    refused = await client.post(f"/v1/decisions/{second['id']}/outcome", json={"result": "success"})
    body = assert_problem(refused, 422, "validation_failed")
    assert "belongs to no person" in error_at(body, ["body", "reviewed_by"])["msg"]
    assert (await client.get(f"/v1/decisions/{second['id']}")).json()["outcome"] is None


async def test_expired_key_is_refused_like_a_revoked_one(app_instance, client_for, db):
    created = await client_for("admin").post(
        "/v1/keys", json={"name": "short-lived", "scope": "read", "expires_at": _in(1.5)}
    )
    assert created.status_code == 201, created.text
    async with make_client(app_instance, created.json()["key"]) as short:
        assert (await short.get("/v1/people")).status_code == 200  # checked, and cached no longer than it lives
        await asyncio.sleep(2)
        refused = await short.get("/v1/people")
        assert_problem(refused, 401, "unauthorized")
        assert refused.json()["detail"] == "The API key has expired."


async def test_cli_creates_a_key_for_a_person_that_expires(app_instance, client):
    await factories.basics(client)
    name = unique_name()
    code, out, err = await run_cli(
        "keys", "create", "--name", name, "--scope", "write", "--person", "anna.petrova", "--expires-in", "30"
    )
    assert code == 0, err
    assert "person anna.petrova" in out and "expires 20" in out
    key = out.strip().splitlines()[-1]
    async with make_client(app_instance, key) as anna:
        assert (await factories.decision(anna))["recorded_by"] == "anna.petrova"
    code, out, err = await run_cli("keys", "list")
    line = next(line for line in out.splitlines() if line.endswith(name))
    assert "anna.petrova" in line
    code, out, err = await run_cli("keys", "create", "--name", unique_name(), "--person", "nobody")
    assert code == 1 and "unknown person 'nobody'" in err
