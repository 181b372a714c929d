"""Assertions shared by the decision tests: problem bodies, whole decision bodies, timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"
UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 answer with this status and machine code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith("/" + code)
    assert body["title"]
    assert body["detail"]
    return body


def error_at(body: dict[str, Any], loc: list[str | int]) -> dict[str, Any]:
    """The one field error of a problem body located at ``loc``."""
    found = [e for e in body.get("errors") or [] if e["loc"] == loc]
    assert len(found) == 1, f"no single error at {loc}: {body.get('errors')}"
    return found[0]


def parse_utc(value: str) -> datetime:
    """A response timestamp: UTC, a ``Z`` and six microsecond digits."""
    assert UTC_STAMP.match(value), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_between(value: str, before: datetime, after: datetime) -> None:
    assert before <= parse_utc(value) <= after, (before, value, after)


def now() -> datetime:
    return datetime.now(UTC)


def evidence_read(**fields: Any) -> dict[str, Any]:
    """An evidence item as the API answers it (absent optional fields are null)."""
    return {"metric": None, "value": None, "note": None, **fields}


def expected_decision(**fields: Any) -> dict[str, Any]:
    """A whole decision body: the contract's every field, with the defaults of a fresh decision."""
    body: dict[str, Any] = {
        "id": None,
        "title": None,
        "description": None,
        "rationale": None,
        "basis": None,
        "basis_class": None,
        "classification_reason": None,
        "evidence": [],
        "owner": None,
        "participants": [],
        "team": None,
        "channel": None,
        "category": "other",
        "budget_amount": None,
        "budget_currency": None,
        "decided_at": None,
        "strategy": None,
        "strategy_version": None,
        "kpis": [],
        "expected_outcome": None,
        "tags": [],
        "external_ref": None,
        "status": "active",
        "revision": 1,
        "recorded_at": None,
        "recorded_by": "test-write",
        "updated_at": None,
        "outcome": None,
        "reversal": None,
        "contractor": None,
        "directed_by": None,
        "rationale_signals": [],
        "confidence": None,
        "alternatives": [],
        "data_recommendation": None,
    }
    unknown = set(fields) - set(body)
    assert not unknown, f"not decision fields: {unknown}"
    body.update(fields)
    return body
