"""Every text a client sends, in every body, query and path of every operation of the spec, refuses what the
databases cannot store or the tamper-evident log cannot canonicalise: a NUL character and a lone surrogate get a
422 naming the field alone, identically on both engines, and nothing is written (app/core/text.py).

The operations and their fields are read from the served OpenAPI document, so a field added later is covered
without a change here; an operation with a body needs a valid body below (the test says so when one is missing).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from app.main import app
from tests import factories
from tests.decisions.helpers import assert_problem

# A valid body for each operation, with every optional field present, so that a bad value at one place is the one
# error. Bodies are validated before any handler runs: the records they name need not exist.
DECISION = {
    "title": "Move 20% of display budget to paid search",
    "description": "Quarterly plan.",
    "rationale": "Paid search converts better.",
    "basis": "data",
    "evidence": [{"source": "ga4", "reference": "r/1", "metric": "cr", "value": "3%", "note": "Q1"}],
    "owner": "anna.petrova",
    "participants": ["boris.ivanov"],
    "team": "growth",
    "channel": "paid_search",
    "category": "budget",
    "budget_amount": 100,
    "budget_currency": "EUR",
    "decided_at": "2026-03-01T10:00:00Z",
    "strategy": "growth-2026",
    "kpis": ["cpa"],
    "expected_outcome": {"description": "CPA down", "kpi": "cpa", "target_value": 40, "review_by": "2026-06-01"},
    "tags": ["q2"],
    "external_ref": {"system": "crm", "id": "DEAL-1"},
    "confidence": 0.7,
    "alternatives": [{"title": "Keep display", "reason_rejected": "Converts less."}],
    "data_recommendation": {"option": "Move to search", "followed": True},
}
BODIES: dict[str, dict[str, Any]] = {
    "upsertPerson": {"name": "Anna", "email": "anna@example.com", "team": "growth", "active": True},
    "upsertDataSource": {"name": "GA4", "kind": "analytics", "url": "https://analytics.example.com/"},
    "upsertContractor": {"name": "Acme", "kind": "agency", "active": True},
    "createDecision": DECISION,
    "createDecisionBatch": {"items": [DECISION]},
    "updateDecision": {
        "edit_reason": "Typo.",
        "edited_by": "anna.petrova",
        **{name: value for name, value in DECISION.items() if name != "external_ref"},
    },
    "reverseDecision": {"reason": "Cancelled.", "by": "anna.petrova", "superseded_by": str(uuid.uuid4())},
    "recordDecisionOutcome": {
        "result": "success",
        "notes": "Fine.",
        "actual_value": 37,
        "reviewed_by": "anna.petrova",
        "reviewed_at": "2026-06-02T09:00:00Z",
    },
    "createStrategy": {"key": "growth-2026", "title": "Growth", "description": "The plan."},
    "createStrategyVersion": {
        "summary": "Shift budget",
        "body": "Paid search first.",
        "effective_from": "2026-04-01",
        "change_reason": "CPA doubled.",
        "changed_by": "anna.petrova",
    },
    "putKpi": {
        "name": "CPA",
        "unit": "EUR",
        "kind": "money",
        "target": 40,
        "direction": "decrease",
        "owner": "anna.petrova",
        "change_reason": "Agreed.",
    },
    "createApiKey": {"name": "crm-sync", "scope": "read"},
    "createWebhook": {
        "url": "https://93.184.216.34/hook",
        "events": ["kpi.revised"],
        "format": "slack",
        "description": "CRM sync",
    },
    "updateWebhook": {
        "url": "https://93.184.216.34/hook",
        "events": ["kpi.revised"],
        "format": "slack",
        "description": "CRM sync",
        "enabled": True,
    },
}
PATH_VALUES = {"handle": "anna.petrova", "key": "growth-2026", "decision_id": str(uuid.uuid4()), "number": "1"}
PATH_VALUES["key_id"] = str(uuid.uuid4())
PATH_VALUES["webhook_id"] = str(uuid.uuid4())
UNSTORABLE = {"nul": "t\x00", "surrogate": "t\ud800"}


SPEC: dict[str, Any] = app.openapi()  # the module's app: the same routes as the fixtures' one
JSON = {"Content-Type": "application/json"}


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in SPEC["paths"].items():
        for method, operation in methods.items():
            if path.startswith("/v1/"):
                yield method.upper(), path, operation


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _text_paths(schema: dict[str, Any], path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every place in a body where the schema takes a string."""
    schema = _resolve(schema)
    if any(_resolve(option).get("type") == "string" for option in schema.get("anyOf", [])) or (
        schema.get("type") == "string"
    ):
        yield path
    for option in schema.get("anyOf", []):
        if _resolve(option).get("type") != "string":
            yield from _text_paths(option, path)
    if schema.get("type") == "object":
        for name, child in schema.get("properties", {}).items():
            yield from _text_paths(child, (*path, name))
    if schema.get("type") == "array":
        yield from _text_paths(schema["items"], (*path, 0))


def _url(path: str, **values: str) -> str:
    return path.format(**{**PATH_VALUES, **values})


def _body_cases() -> Iterator[Any]:
    for method, path, operation in _operations():
        body = operation.get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        for place in dict.fromkeys(_text_paths(schema)):
            for kind in UNSTORABLE:
                yield pytest.param(method, path, operation["operationId"], place, kind, id=f"{method} {path} {place}")


def _put(body: Any, place: tuple[str | int, ...], value: str) -> None:
    target = body
    for step in place[:-1]:
        target = target[step]
    target[place[-1]] = value


@pytest.mark.parametrize(("method", "path", "operation_id", "place", "kind"), list(_body_cases()))
async def test_unstorable_text_in_a_body_returns_422_naming_the_field(
    client_for, method, path, operation_id, place, kind
):
    assert operation_id in BODIES, f"{operation_id}: add a valid body with every optional field to BODIES"
    body = copy.deepcopy(BODIES[operation_id])
    try:
        _put(body, place, UNSTORABLE[kind])
    except (KeyError, IndexError):
        pytest.fail(f"{operation_id}: BODIES lacks {place}; add it")
    admin = client_for("admin")
    content = json.dumps(body).encode()  # "\ud800" travels escaped, as a client's JSON would carry it

    response = await admin.request(method, _url(path), content=content, headers=JSON)

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [["body", *place]], problem["errors"]


def _parameter_cases() -> Iterator[Any]:
    for method, path, operation in _operations():
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            options = [_resolve(o) for o in schema.get("anyOf", [schema])]
            if parameter["in"] in {"query", "path"} and any(o.get("type") == "string" for o in options):
                name, where = parameter["name"], parameter["in"]
                yield pytest.param(method, path, operation["operationId"], where, name, id=f"{method} {path} {name}")


@pytest.mark.parametrize(("method", "path", "operation_id", "where", "name"), list(_parameter_cases()))
async def test_nul_in_a_query_or_path_parameter_returns_422_naming_it(
    client_for, method, path, operation_id, where, name
):
    # A URL carries no lone surrogate (percent-decoding gives U+FFFD), but it does carry %00.
    admin = client_for("admin")
    url = _url(path, **({name: "t%00"} if where == "path" else {}))  # decoded by the server
    params = {name: "t\x00"} if where == "query" else {}
    body = BODIES.get(operation_id)
    content = None if body is None else json.dumps(body).encode()

    response = await admin.request(method, url, params=params, content=content, headers=JSON)

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [[where, name]], problem["errors"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/people/anna.petrova", {"name": "  ", "team": "growth"}, "name"),
        ("/v1/people/anna.petrova", {"name": "Anna", "team": " \t"}, "team"),
        ("/v1/data-sources/ga4", {"name": "\u3000", "kind": "analytics"}, "name"),
        ("/v1/kpis/cpa", {"name": " ", "unit": "EUR", "kind": "money"}, "name"),
        ("/v1/kpis/cpa", {"name": "CPA", "unit": " ", "kind": "money"}, "unit"),
    ],
)
async def test_blank_names_and_teams_return_422(client, path, body, field):
    response = await client.put(path, json=body)

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"] for e in problem["errors"]] == [["body", field]], problem["errors"]
    assert problem["errors"][0]["msg"] == "must not be blank"


async def test_blank_team_of_a_decision_and_name_of_a_key_return_422(client, client_for):
    await factories.basics(client)
    decision = await client.post("/v1/decisions", json=factories.decision_body(team="   "))
    key = await client_for("admin").post("/v1/keys", json={"name": "   ", "scope": "read"})

    assert [e["loc"] for e in assert_problem(decision, 422, "validation_failed")["errors"]] == [["body", "team"]]
    assert [e["loc"] for e in assert_problem(key, 422, "validation_failed")["errors"]] == [["body", "name"]]


@pytest.mark.parametrize("kind", list(UNSTORABLE))
async def test_unstorable_text_writes_nothing_on_either_engine(client, kind):
    await factories.basics(client)
    before = (await client.get("/v1/people")).json()
    body = json.dumps({"name": UNSTORABLE[kind], "team": "growth"}).encode()

    response = await client.put("/v1/people/vera.orlova", content=body, headers=JSON)

    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"][0]["type"] == f"text_{kind}"
    assert (await client.get("/v1/people")).json() == before
