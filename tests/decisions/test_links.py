"""Decisions linked to strategies and KPIs: validated keys, the strategy version in force at
``decided_at`` stored and kept, and the ``strategy`` and ``kpi`` filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.types import format_utc
from tests import factories

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}
V1 = "2026-02-01T00:00:00Z"
V2 = "2026-04-01T00:00:00Z"


def assert_problem(response, status: int, code: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["code"] == code
    return body  # type: ignore[no-any-return]


def error_at(body: dict[str, Any], *loc: str | int) -> dict[str, Any]:
    matches = [e for e in body["errors"] if tuple(e["loc"]) == loc]
    assert matches, body["errors"]
    return matches[0]


async def patch(client, decision: dict[str, Any], **fields: Any):  # type: ignore[no-untyped-def]
    return await client.patch(
        f"/v1/decisions/{decision['id']}", json={"edit_reason": "Correcting the record.", **fields}
    )


async def listed(client, **params: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = await client.get("/v1/decisions", params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["items"]]


@pytest.fixture
async def registries(client):  # type: ignore[no-untyped-def]
    """People, sources, the strategy ``growth-2026`` (v1 from V1, v2 from V2) and KPIs ``cpa``, ``leads``."""
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from=V1, summary="Paid search first")
    await factories.version(client, "growth-2026", effective_from=V2, summary="Add SEO")
    await factories.kpi(client, "cpa", kind="money")
    await factories.kpi(client, "leads", kind="activity", unit="leads")


# ---------------------------------------------------------------------------------------------
# The strategy version in force at decided_at
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_at", "expected"),
    [
        ("2026-01-15T12:00:00Z", None),  # before the first version
        ("2026-01-31T23:59:59.999999Z", None),  # a microsecond before the first version
        (V1, 1),  # exactly at v1's effective_from
        ("2026-02-01T03:00:00+03:00", 1),  # the same instant in another zone
        ("2026-03-01T10:00:00Z", 1),  # between v1 and v2
        ("2026-03-31T23:59:59.999999Z", 1),  # a microsecond before v2
        (V2, 2),  # exactly at v2's effective_from
        ("2026-04-01", 2),  # a plain date means midnight UTC
        ("2026-05-01T10:00:00Z", 2),  # after the latest version
    ],
)
async def test_decision_points_at_the_latest_version_in_force_at_decided_at(client, registries, decided_at, expected):
    # Both versions already exist when the decision is recorded.
    created = await client.post(
        "/v1/decisions", json=factories.decision_body(strategy="growth-2026", decided_at=decided_at)
    )

    assert created.status_code == 201, created.text
    assert created.json()["strategy"] == "growth-2026"
    assert created.json()["strategy_version"] == expected
    assert (await client.get(created.headers["Location"])).json()["strategy_version"] == expected


async def test_decision_recorded_after_the_later_version_exists_points_at_the_earlier(client):
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from=V1)
    await factories.version(client, "growth-2026", effective_from=V2)

    decision = await factories.decision(client, strategy="growth-2026", decided_at="2026-03-15T09:30:00Z")

    assert decision["strategy_version"] == 1


async def test_decision_without_a_strategy_has_no_strategy_version(client, registries):
    decision = await factories.decision(client)

    assert decision["strategy"] is None
    assert decision["strategy_version"] is None
    assert decision["kpis"] == []


async def test_decision_defaulting_to_now_ignores_a_version_that_takes_effect_later(client):
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from=V1)
    await factories.version(client, "growth-2026", effective_from=format_utc(datetime.now(UTC) + timedelta(days=30)))
    body = factories.decision_body(strategy="growth-2026")
    del body["decided_at"]

    response = await client.post("/v1/decisions", json=body)

    assert response.status_code == 201, response.text
    assert response.json()["strategy_version"] == 1


async def test_decisions_keep_their_strategy_version_when_later_versions_arrive(client):
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    before_first = await factories.decision(client, strategy="growth-2026", decided_at="2026-03-01T00:00:00Z")
    assert before_first["strategy_version"] is None
    await factories.version(client, "growth-2026", effective_from=V1)
    on_v1 = await factories.decision(client, strategy="growth-2026", decided_at="2026-05-01T00:00:00Z")
    assert on_v1["strategy_version"] == 1

    # A new version that, had it existed, would have been in force for both decisions.
    await factories.version(client, "growth-2026", effective_from="2026-02-15T00:00:00Z", change_reason="Late fix.")

    for decision, version in ((before_first, None), (on_v1, 1)):
        got = await client.get(f"/v1/decisions/{decision['id']}")
        assert got.json() == decision | {"contradicts": []}
        assert got.json()["strategy_version"] == version
    items = (await client.get("/v1/decisions", params={"strategy": "growth-2026"})).json()["items"]
    assert {d["id"]: d["strategy_version"] for d in items} == {before_first["id"]: None, on_v1["id"]: 1}
    # A decision recorded now for the same moment sees the new version.
    fresh = await factories.decision(client, strategy="growth-2026", decided_at="2026-05-01T00:00:00Z")
    assert fresh["strategy_version"] == 2


async def test_patch_other_fields_keeps_the_stored_strategy_version(client):
    await factories.basics(client)
    await factories.strategy(client, "growth-2026")
    await factories.version(client, "growth-2026", effective_from=V1)
    decision = await factories.decision(client, strategy="growth-2026", decided_at="2026-05-01T00:00:00Z")
    await factories.version(client, "growth-2026", effective_from=V2)

    response = await patch(client, decision, title="A clearer title")

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "A clearer title"
    assert response.json()["strategy_version"] == 1


async def test_patch_decided_at_recomputes_the_strategy_version(client, registries):
    decision = await factories.decision(client, strategy="growth-2026", decided_at="2026-03-01T00:00:00Z")
    assert decision["strategy_version"] == 1

    later = await patch(client, decision, decided_at="2026-05-01T00:00:00Z")
    assert later.status_code == 200, later.text
    assert later.json()["strategy_version"] == 2
    earlier = await patch(client, later.json(), decided_at="2026-01-01T00:00:00Z")
    assert earlier.status_code == 200, earlier.text
    assert earlier.json()["strategy_version"] is None

    assert (await client.get(f"/v1/decisions/{decision['id']}")).json() == earlier.json() | {"contradicts": []}
    history = (await client.get(f"/v1/decisions/{decision['id']}/revisions")).json()["items"]
    assert [r["changes"]["strategy_version"] for r in history[1:]] == [
        {"from": 1, "to": 2},
        {"from": 2, "to": None},
    ]


async def test_patch_strategy_recomputes_the_strategy_version(client, registries):
    await factories.strategy(client, "brand-2026")
    await factories.version(client, "brand-2026", effective_from="2026-01-01T00:00:00Z")
    await factories.version(client, "brand-2026", effective_from="2026-02-01T00:00:00Z")
    await factories.version(client, "brand-2026", effective_from="2026-02-15T00:00:00Z")
    decision = await factories.decision(client, strategy="growth-2026", decided_at="2026-03-01T00:00:00Z")
    assert decision["strategy_version"] == 1

    moved = await patch(client, decision, strategy="brand-2026")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["strategy"], moved.json()["strategy_version"]) == ("brand-2026", 3)

    cleared = await patch(client, moved.json(), strategy=None)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["strategy"], cleared.json()["strategy_version"]) == (None, None)

    linked = await patch(client, cleared.json(), strategy="growth-2026", decided_at="2026-04-02T00:00:00Z")
    assert linked.status_code == 200, linked.text
    assert (linked.json()["strategy"], linked.json()["strategy_version"]) == ("growth-2026", 2)


async def test_patch_decided_at_of_a_decision_without_strategy_leaves_version_null(client, registries):
    decision = await factories.decision(client, decided_at="2026-03-01T00:00:00Z")

    response = await patch(client, decision, decided_at="2026-05-01T00:00:00Z")

    assert response.status_code == 200, response.text
    assert (response.json()["strategy"], response.json()["strategy_version"]) == (None, None)


# ---------------------------------------------------------------------------------------------
# Unknown strategy and KPIs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc", "value"),
    [
        ({"strategy": "no-such-strategy"}, ("body", "strategy"), "no-such-strategy"),
        ({"kpis": ["no-such-kpi"]}, ("body", "kpis", 0), "no-such-kpi"),
        ({"kpis": ["cpa", "ghost-kpi"]}, ("body", "kpis", 1), "ghost-kpi"),
        (
            {"expected_outcome": {"description": "CPA below 40 EUR", "kpi": "ghost-kpi", "target_value": 40}},
            ("body", "expected_outcome", "kpi"),
            "ghost-kpi",
        ),
    ],
)
async def test_create_decision_unknown_strategy_or_kpi_returns_422_naming_field_and_value(
    client, registries, overrides, loc, value
):
    response = await client.post("/v1/decisions", json=factories.decision_body(**overrides))

    body = assert_problem(response, 422, "unknown_reference")
    error = error_at(body, *loc)
    assert value in error["msg"]
    assert error["type"] == "unknown_reference"
    assert len(body["errors"]) == 1
    assert value in body["detail"]
    assert await listed(client) == []


@pytest.mark.parametrize("team", [{}, {"team": "growth"}], ids=["owner's team", "team given"])
async def test_create_decision_unknown_kpi_returns_422_and_writes_nothing(client, registries, team):
    body = factories.decision_body(
        kpis=["cpa", "ghost-kpi"], expected_outcome={"description": "CPA below 40 EUR", "kpi": "cpa"}, **team
    )
    response = await client.post("/v1/decisions", json=body)

    problem = assert_problem(response, 422, "unknown_reference")
    assert [tuple(e["loc"]) for e in problem["errors"]] == [("body", "kpis", 1)]
    assert "ghost-kpi" in problem["detail"]
    assert await listed(client) == []
    body["kpis"] = ["cpa", "leads"]
    created = (await client.post("/v1/decisions", json=body)).json()
    assert created["kpis"] == ["cpa", "leads"]
    assert await listed(client) == [created["id"]]


async def test_create_decision_reports_every_unknown_reference_at_once(client, registries):
    response = await client.post(
        "/v1/decisions",
        json=factories.decision_body(
            strategy="nope",
            kpis=["cpa", "ghost-kpi"],
            expected_outcome={"description": "CPA below 40 EUR", "kpi": "other-ghost"},
        ),
    )

    body = assert_problem(response, 422, "unknown_reference")
    assert sorted(tuple(e["loc"]) for e in body["errors"]) == sorted(
        [("body", "strategy"), ("body", "kpis", 1), ("body", "expected_outcome", "kpi")]
    )


async def test_create_decision_bad_strategy_or_kpi_key_returns_422(client, registries):
    for overrides, loc in (
        ({"strategy": "Growth 2026"}, ("body", "strategy")),
        ({"kpis": ["CPA"]}, ("body", "kpis", 0)),
        ({"kpis": "cpa"}, ("body", "kpis")),
    ):
        response = await client.post("/v1/decisions", json=factories.decision_body(**overrides))
        error_at(assert_problem(response, 422, "validation_failed"), *loc)


async def test_patch_decision_unknown_strategy_or_kpi_returns_422_and_changes_nothing(client, registries):
    decision = await factories.decision(client, strategy="growth-2026", kpis=["cpa"])

    for fields, loc in (
        ({"strategy": "nope"}, ("body", "strategy")),
        ({"kpis": ["cpa", "nope"]}, ("body", "kpis", 1)),
        ({"expected_outcome": {"description": "CPA below 40 EUR", "kpi": "nope"}}, ("body", "expected_outcome", "kpi")),
    ):
        response = await patch(client, decision, **fields)
        error = error_at(assert_problem(response, 422, "unknown_reference"), *loc)
        assert "nope" in error["msg"]
    assert (await client.get(f"/v1/decisions/{decision['id']}")).json() == decision | {"contradicts": []}


async def test_decision_stores_its_kpis_and_expected_outcome_kpi(client, registries):
    decision = await factories.decision(
        client,
        strategy="growth-2026",
        kpis=["cpa", "leads"],
        expected_outcome={"description": "CPA below 40 EUR", "kpi": "cpa", "target_value": 40},
    )

    assert decision["kpis"] == ["cpa", "leads"]
    assert decision["expected_outcome"]["kpi"] == "cpa"
    assert (await client.get(f"/v1/decisions/{decision['id']}")).json() == decision | {"contradicts": []}


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


async def test_list_decisions_filters_by_strategy_and_kpi(client, registries):
    await factories.strategy(client, "brand-2026")
    growth_cpa = await factories.decision(client, strategy="growth-2026", kpis=["cpa"], title="growth cpa")
    brand_both = await factories.decision(client, strategy="brand-2026", kpis=["cpa", "leads"], title="brand both")
    growth_leads = await factories.decision(client, strategy="growth-2026", kpis=["leads"], title="growth leads")
    unlinked = await factories.decision(client, title="unlinked")

    assert sorted(await listed(client)) == sorted(d["id"] for d in (growth_cpa, brand_both, growth_leads, unlinked))
    assert sorted(await listed(client, strategy="growth-2026")) == sorted([growth_cpa["id"], growth_leads["id"]])
    assert await listed(client, strategy="brand-2026") == [brand_both["id"]]
    assert sorted(await listed(client, kpi="cpa")) == sorted([growth_cpa["id"], brand_both["id"]])
    assert sorted(await listed(client, kpi="leads")) == sorted([brand_both["id"], growth_leads["id"]])
    assert await listed(client, strategy="growth-2026", kpi="cpa") == [growth_cpa["id"]]
    assert await listed(client, strategy="brand-2026", kpi="leads") == [brand_both["id"]]
    assert await listed(client, strategy="no-such-strategy") == []
    assert await listed(client, kpi="no-such-kpi") == []
    # A key that is only a prefix or part of another does not match.
    assert await listed(client, kpi="cp") == []


async def test_list_decisions_strategy_filter_follows_a_patch(client, registries):
    await factories.strategy(client, "brand-2026")
    decision = await factories.decision(client, strategy="growth-2026", kpis=["cpa"])

    response = await patch(client, decision, strategy="brand-2026", kpis=["leads"])
    assert response.status_code == 200, response.text

    assert await listed(client, strategy="growth-2026") == []
    assert await listed(client, strategy="brand-2026") == [decision["id"]]
    assert await listed(client, kpi="cpa") == []
    assert await listed(client, kpi="leads") == [decision["id"]]


@pytest.mark.parametrize(("name", "value"), [("strategy", "Growth 2026"), ("kpi", "CPA!")])
async def test_list_decisions_bad_strategy_or_kpi_filter_returns_422(client, name, value):
    response = await client.get("/v1/decisions", params={name: value})

    error_at(assert_problem(response, 422, "validation_failed"), "query", name)
