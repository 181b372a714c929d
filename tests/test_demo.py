"""`decision-log demo`: a year of a marketing team that every analytics endpoint has something to say about."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from app.auth.scopes import Scope
from app.auth.service import Caller
from app.core.unit_of_work import Database, transaction
from app.decisions.classification import DATA_BASES
from app.decisions.models import Decision
from app.decisions.service import decision_json
from app.demo import DEFAULT_SEED, MEMBERS, build_plan, run_demo
from app.demo.plan import Decisions, organisation, stored_row
from tests.conftest import DATABASE_URL, make_client

COMMAND = Path(sys.executable).parent / "decision-log"


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        *args,
        env={**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def total_decisions(client: httpx.AsyncClient) -> int:
    rows = (await get(client, "/v1/analytics/basis", bucket="none"))["rows"]
    return int(rows[0]["total"])


def test_demo_plan_is_reproducible_and_shaped_like_a_year_of_a_team():
    today = date(2026, 6, 15)
    plan = build_plan(DEFAULT_SEED, today)

    assert plan == build_plan(DEFAULT_SEED, today)
    assert plan != build_plan(DEFAULT_SEED + 1, today)
    assert len(plan.people) == 9 and {p.team for _, p in plan.people} == {
        "growth",
        "brand",
        "performance",
        "management",
    }
    assert [h for h, p in plan.people if p.role == "owner"] == ["viktor.belov"]
    assert [key for key, _ in plan.contractors] == ["red-fox", "pixel-forge"]
    assert any(d.directed_by == "viktor.belov" for d in plan.decisions)
    assert any(review.cause is not None for _, review in plan.outcomes)
    assert 6 <= len(plan.sources) <= 8 and len({s.kind for _, s in plan.sources}) >= 6
    assert len(plan.strategies) == 2
    assert 4 <= len({key for key, _ in plan.kpis}) <= 7  # the six of the plan and the contradicted pair's own
    assert 400 <= len(plan.decisions) <= 600
    # Nothing lies in the future of the day the plan was made for, and the year is covered.
    decided = [d.decided_at for d in plan.decisions]
    assert decided == sorted(decided)
    assert plan.start <= decided[0] and decided[-1] < plan.end == datetime(2026, 6, 15, tzinfo=UTC)
    assert (decided[-1] - decided[0]).days > 330
    effective = [v.effective_from for _, v in plan.versions]
    assert effective == sorted(effective) and effective[-1] < plan.end
    for index, outcome in plan.outcomes:
        assert outcome.reviewed_at is not None
        assert plan.decisions[index].decided_at < outcome.reviewed_at < plan.end
    # A believable mix: every basis, several currencies, evidence missing from some data claims.
    assert {d.basis for d in plan.decisions} == {b for member in MEMBERS for b, w in member.bases.items() if w}
    assert {d.budget_currency for d in plan.decisions} == {None, "EUR", "RUB", "USD"}
    assert any(d.basis in DATA_BASES and not d.evidence for d in plan.decisions)
    assert plan.corrections and plan.reversals
    assert any(r.superseded_by is not None for r in plan.reversals)


async def test_demo_loads_a_year_that_every_analytics_endpoint_describes(db: Database, client_for, app_instance):
    summary = await run_demo(db)
    analytics = client_for("analytics")
    reader = client_for("read")

    # basis: every month of the year, data and emotions, data claims without evidence shown apart
    months = (await get(analytics, "/v1/analytics/basis", bucket="month"))["rows"]
    assert 12 <= len(months) <= 13
    assert sum(r["total"] for r in months) == summary.decisions >= 400
    assert all(r["data"] + r["emotion"] == r["total"] for r in months)
    assert sum(r["data"] for r in months) > 0 and sum(r["emotion"] for r in months) > 0
    assert sum(r["emotion_unsupported"] for r in months) > 0
    owners = (await get(analytics, "/v1/analytics/basis", group_by="owner", bucket="none"))["rows"]
    assert len(owners) == 8
    shares = sorted(r["data_share"] for r in owners)
    assert shares[0] < 0.3 and shares[-1] > 0.5  # owners differ in their habits
    teams = (await get(analytics, "/v1/analytics/basis", group_by="team", bucket="none"))["rows"]
    assert {r["group"] for r in teams} == {"growth", "brand", "performance"}
    budgets = (await get(analytics, "/v1/analytics/basis", weight="budget", currency="RUB", bucket="none"))["rows"]
    assert budgets[0]["total"] > 0

    # strategy changes: one strategy rewritten every few weeks, often without a reason
    changes = await get(analytics, "/v1/analytics/strategy-changes", bucket="quarter")
    rows = {r["strategy"]: r for r in changes["rows"]}
    assert set(rows) == {"profitable-growth", "brand-platform"}
    assert rows["brand-platform"]["unstable"] is True and rows["brand-platform"]["unexplained_changes"] >= 2
    assert rows["profitable-growth"]["unstable"] is False and rows["profitable-growth"]["changes"] >= 2
    assert changes["series"] and 0 < changes["strategy_usage"] < 1

    # KPIs: few tied to money, some without an owner, changed with and without a reason
    kpis = await get(analytics, "/v1/analytics/kpis")
    assert 0 < kpis["money_share"] < 1
    assert kpis["kpis_without_owner"] >= 1
    assert kpis["changes"] > kpis["unexplained_changes"] > 0
    assert all(r["decisions"] > 0 for r in kpis["rows"])

    # accountability: reviews are overdue for several owners; some decisions were reversed
    accountability = (await get(analytics, "/v1/analytics/accountability"))["rows"]
    assert sum(1 for r in accountability if r["overdue_reviews"] > 0) >= 3
    reviewed = sum(r["reviewed"] for r in accountability)
    due = sum(r["reviews_due"] for r in accountability)
    assert 0.3 <= reviewed / due <= 0.55
    assert sum(r["reversed"] for r in accountability) == summary.reversed + summary.superseded > 0

    # outcomes: both classes reviewed; decisions on data succeed more often
    outcomes = {r["basis_class"]: r for r in (await get(analytics, "/v1/analytics/outcomes"))["rows"]}
    assert outcomes["data"]["success_rate"] > outcomes["emotion"]["success_rate"] > 0
    assert outcomes["data"]["reviewed"] + outcomes["emotion"]["reviewed"] == summary.reviews

    # decision quality: calibrated owners and one overconfident, overrides that mostly fail, one contradicting pair
    calibration = {r["group"]: r for r in (await get(analytics, "/v1/analytics/calibration", group_by="owner"))["rows"]}
    assert calibration["emily.clark"]["overconfidence"] > 0.25 and calibration["emily.clark"]["brier_score"] > 0.25
    assert calibration["anna.petrova"]["brier_score"] < 0.1 and abs(calibration["anna.petrova"]["overconfidence"]) < 0.1
    overrides = {r["followed"]: r for r in (await get(analytics, "/v1/analytics/overrides"))["rows"]}
    assert overrides[False]["failure"] > overrides[False]["success"] > 0
    assert overrides[True]["success_rate"] > overrides[False]["success_rate"]
    (pair,) = (await get(analytics, "/v1/analytics/contradictions"))["rows"]
    assert pair["kpi"] == "average-order-value" and pair["owner_a"] != pair["owner_b"]
    assert (await get(reader, f"/v1/decisions/{pair['decision_a']}"))["contradicts"] == [pair["decision_b"]]

    # summary: the last 90 days have something in every section
    (scorecard,) = (await get(analytics, "/v1/analytics/summary"))["rows"]
    assert scorecard["decisions"] > 50 and scorecard["kpis"] == kpis["kpis"] and scorecard["reviews_due"] > 0

    # the whole system: Red Fox is blamed for most failures, mostly of decisions made on emotions; the owner
    # directs a share of the decisions, mostly on emotions; some data claims speak in feelings
    agencies = {r["contractor"]: r for r in (await get(analytics, "/v1/analytics/contractors"))["rows"]}
    assert set(agencies) == {"red-fox", "pixel-forge", None}
    red_fox, pixel_forge = agencies["red-fox"], agencies["pixel-forge"]
    assert red_fox["failures_blamed_on_execution"] > pixel_forge["failures_blamed_on_execution"]
    assert red_fox["execution_blame_share"] > 0.5 > pixel_forge["execution_blame_share"]
    assert red_fox["blamed_on_execution_decided_on_emotion"] * 2 > red_fox["failures_blamed_on_execution"]
    owner = next(r for r in accountability if r["owner"] == "viktor.belov")
    assert (owner["role"], owner["decisions"]) == ("owner", 0) and owner["directed"] > 20
    assert owner["directed_emotion_share"] > 0.8
    (year,) = (await get(analytics, "/v1/analytics/summary", **{"from": "2025-01-01"}))["rows"]
    assert year["owner_directed"] == owner["directed"] and year["data_claims_with_emotional_language"] > 10
    signalled = await get(reader, "/v1/decisions", rationale_signal="certainty", basis_class="data")
    assert signalled["items"] and all(d["rationale_signals"] for d in signalled["items"])

    # CSV for BI tools, with a BOM for Excel, and the key as a query parameter for Power BI
    csv = await analytics.get("/v1/analytics/basis", params={"format": "csv", "bom": "true", "bucket": "quarter"})
    assert csv.status_code == 200 and csv.text.startswith("\ufeffperiod_start,group,total,data,emotion")
    async with make_client(app_instance, None) as anon:
        key = analytics.headers["Authorization"].removeprefix("Bearer ")
        by_query = await anon.get("/v1/analytics/summary", params={"api_key": key}, headers={"Accept": "text/csv"})
    assert by_query.status_code == 200 and by_query.text.startswith("decisions,data,emotion")

    # the records obey the same rules as the API: nothing in the future, history in time order
    now = datetime.now(UTC).isoformat()
    assert (await get(reader, "/v1/decisions", decided_from=now))["items"] == []
    for key in ("profitable-growth", "brand-platform"):
        versions = (await get(reader, f"/v1/strategies/{key}/versions", limit=100))["items"]
        assert [v["effective_from"] for v in versions] == sorted(v["effective_from"] for v in versions)
        assert [v["created_at"] for v in versions] == sorted(v["created_at"] for v in versions)
    revisions = (await get(reader, "/v1/kpis/leads/revisions"))["items"]
    assert [r["revision"] for r in revisions] == [1, 2, 3]
    assert [r["changed_at"] for r in revisions] == sorted(r["changed_at"] for r in revisions)
    (superseded, *_) = (await get(reader, "/v1/decisions", status="superseded"))["items"]
    history = (await get(reader, f"/v1/decisions/{superseded['id']}/revisions"))["items"]
    assert history[0]["kind"] == "created" and history[-1]["kind"] == "superseded"
    assert (await get(reader, f"/v1/decisions/{superseded['reversal']['superseded_by']}"))["status"] == "active"


async def test_demo_refuses_a_database_that_holds_decisions_unless_forced(db: Database, client_for):
    await run_demo(db)
    analytics = client_for("analytics")
    before = await total_decisions(analytics)

    code, out, err = await run_cli("demo")

    assert code == 1, out + err
    assert "already holds decisions" in err and "--force" in err
    assert await total_decisions(analytics) == before

    code, out, err = await run_cli("demo", "--force", "--seed", "7")

    assert code == 0, err
    assert "loaded the demo data set (seed 7)" in out
    assert "kept as they were: " in out and "brand-platform" in out  # strategies and KPIs are not redone
    assert "/v1/analytics/basis?bucket=month" in out
    assert await total_decisions(analytics) > before


async def test_the_generator_draws_any_number_of_decisions_as_bodies_and_as_the_rows_the_service_writes(
    db: Database, client_for
):
    org = organisation(5, days=400, today=date(2026, 6, 1), people=20)
    drawn = Decisions(org, 300, seed=5, external_refs=True)
    bodies = list(drawn.payloads())
    assert bodies == list(drawn.payloads()) and bodies != list(Decisions(org, 300, seed=6).payloads())
    assert [b["decided_at"] for b in bodies] == sorted(b["decided_at"] for b in bodies)
    assert len({b["owner"] for b in bodies}) > len(MEMBERS) and any("external_ref" in b for b in bodies)
    writer = client_for("admin")
    for handle, person in org.people:
        assert (await writer.put(f"/v1/people/{handle}", json=person.model_dump(mode="json"))).status_code == 201
    for key, source in org.sources:
        assert (await writer.put(f"/v1/data-sources/{key}", json=source.model_dump(mode="json"))).status_code == 201
    for strategy in org.strategies:
        assert (await writer.post("/v1/strategies", json=strategy.model_dump(mode="json"))).status_code == 201
    for key, version in org.versions:
        response = await writer.post(f"/v1/strategies/{key}/versions", json=version.model_dump(mode="json"))
        assert response.status_code == 201, response.text
    for key, kpi in org.kpis:
        assert (await writer.put(f"/v1/kpis/{key}", json=kpi.model_dump(mode="json"))).status_code in (200, 201)

    # Half through the API; the generator's row of each body is what the service stored for it.
    posted = await writer.post("/v1/decisions/batch", json={"items": bodies[:150]})
    assert posted.status_code == 201, posted.text
    caller = Caller(key_id="test", name="test-admin", scope=Scope.admin)
    stored = [stored_row(body, org.references(), datetime.now(UTC), caller) for body in bodies[:150]]
    per_write = {"id", "recorded_at", "updated_at"}
    for answer, row in zip(posted.json()["items"], stored, strict=True):
        expected = decision_json(row)
        assert {k: v for k, v in answer.items() if k not in per_write} == {
            k: v for k, v in expected.items() if k not in per_write
        }
    # The other half loaded directly, with the reviews and reversals of its days: the API reads it like its own.
    rows = list(drawn.rows(caller))[150:]
    assert [row["title"] for row in rows] == [body["title"] for body in bodies[150:]]
    assert any(row["status"] == "reversed" for row in rows) and any(row["outcome_result"] for row in rows)
    assert all(row["outcome_reviewed_at"] is None or row["decided_at"] < row["outcome_reviewed_at"] for row in rows)
    async with transaction(db, writes=True) as session:
        await session.execute(insert(Decision.__table__), rows)  # type: ignore[arg-type]
    reader = client_for("analytics")
    assert await total_decisions(reader) == 300
    loaded = await writer.get(f"/v1/decisions/{rows[0]['id']}")
    assert loaded.status_code == 200 and loaded.json()["title"] == rows[0]["title"]
