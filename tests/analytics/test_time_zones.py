"""Analytics in a time zone (`tz`, default `DECISION_LOG_TIMEZONE`): exact figures on both engines against a
reference computed here with :mod:`zoneinfo`, for decisions placed minutes and microseconds around local
midnights (month, quarter and year starts, ISO Mondays), around the March and November daylight-saving switches
(America/New_York, Pacific/Auckland), and in the +5:30 and +5:45 zones. Answered from the rollups (pending
deltas, then folded cells) and from the decisions alike. Run on PostgreSQL with TZ and PGTZ far from UTC (CI:
Asia/Vladivostok), this also proves that neither the process's zone nor the database server's plays a part."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError

from app.analytics import rollup
from app.core.config import Settings
from app.core.unit_of_work import Database
from app.main import create_app
from tests import factories
from tests.analytics.dataset import get_json, parse_csv
from tests.conftest import make_client

BASIS = "/v1/analytics/basis"
ZONES = ("America/New_York", "Pacific/Auckland", "Asia/Kolkata", "Asia/Kathmandu")
# Local days whose midnight matters: month, quarter and year starts; the daylight-saving switches (New York
# 2025-11-02, 2026-03-08 and 2026-11-01; Auckland 2026-04-05 and 2026-09-27, all Sundays) and the Mondays after.
DAYS = [
    date(2025, 10, 1),
    date(2025, 11, 1),
    date(2025, 11, 2),
    date(2025, 11, 3),
    date(2026, 1, 1),
    date(2026, 3, 1),
    date(2026, 3, 8),
    date(2026, 3, 9),
    date(2026, 4, 1),
    date(2026, 4, 5),
    date(2026, 4, 6),
    date(2026, 9, 27),
    date(2026, 9, 28),
    date(2026, 10, 1),
    date(2026, 11, 1),
    date(2026, 11, 2),
]
AROUND = (timedelta(minutes=-30), timedelta(microseconds=-1), timedelta(0), timedelta(minutes=1))
# The switches themselves, as UTC instants (New York 02:00 local, Auckland 02:00/03:00 local).
SWITCHES = [
    datetime(2025, 11, 2, 6, tzinfo=UTC),
    datetime(2026, 3, 8, 7, tzinfo=UTC),
    datetime(2026, 11, 1, 6, tzinfo=UTC),
    datetime(2026, 4, 4, 14, tzinfo=UTC),
    datetime(2026, 9, 26, 14, tzinfo=UTC),
]
OWNERS = ("anna.petrova", "boris.ivanov")
RANGE = {"from": "2025-09-01", "to": "2026-12-01"}  # bare dates: local midnights of the zone asked


def _instants() -> list[datetime]:
    found = {
        datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC) + shift
        for zone in ZONES
        for day in DAYS
        for shift in AROUND
    }
    found |= {switch + shift for switch in SWITCHES for shift in (timedelta(minutes=-1), timedelta(0))}
    return sorted(found)


INSTANTS = _instants()


def _owner(n: int) -> str:
    return OWNERS[n % 2]


def _bucket(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def _next(day: date, unit: str) -> date:
    if unit == "week":
        return day + timedelta(days=7)
    month = day.month - 1 + {"month": 1, "quarter": 3, "year": 12}[unit]
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference(zone: str, unit: str, grouped: bool) -> list[tuple[str, str | None, int]]:
    """(period_start, group, total) as zoneinfo says: ungrouped zero-filled over the range, grouped non-empty."""
    info = ZoneInfo(zone)
    start = datetime.combine(date.fromisoformat(RANGE["from"]), time(0), tzinfo=info)
    end = datetime.combine(date.fromisoformat(RANGE["to"]), time(0), tzinfo=info)
    counts = Counter(
        (_bucket(moment.astimezone(info).date(), unit).isoformat(), _owner(n) if grouped else None)
        for n, moment in enumerate(INSTANTS)
        if start <= moment < end
    )
    if grouped:
        return sorted((period, group, total) for (period, group), total in counts.items())
    out = []
    day = _bucket(start.date(), unit)
    while datetime.combine(day, time(0), tzinfo=info) < end:
        out.append((day.isoformat(), None, counts.get((day.isoformat(), None), 0)))
        day = _next(day, unit)
    return out


async def _load(client: httpx.AsyncClient) -> None:
    for handle in OWNERS:
        await factories.person(client, handle)
    items = [
        factories.decision_body(
            owner=_owner(n),
            basis="intuition" if n % 3 else "research",
            evidence=[],
            decided_at=_stamp(moment),
            **({"budget_amount": 1000 + n / 100, "budget_currency": "EUR"} if n % 2 else {}),
        )
        for n, moment in enumerate(INSTANTS)
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text


async def _answers(client: httpx.AsyncClient, zone: str, unit: str, grouped: bool) -> list[tuple[str, str | None, int]]:
    body = await get_json(client, BASIS, **RANGE, tz=zone, bucket=unit, group_by="owner" if grouped else "none")
    assert body["tz"] == zone
    return [(row["period_start"], row["group"], row["total"]) for row in body["rows"]]


@pytest.mark.parametrize("grouped", [False, True], ids=["total", "by_owner"])
async def test_basis_buckets_at_local_midnights_equal_zoneinfo(client, db, grouped):
    await _load(client)
    questions = [(zone, unit) for zone in (*ZONES, "UTC") for unit in ("week", "month", "quarter", "year")]

    # Pending deltas, then folded cells: the rollup's UTC months serve every zone exactly.
    for state in ("pending", "folded"):
        for zone, unit in questions:
            assert await _answers(client, zone, unit, grouped) == reference(zone, unit, grouped), (state, zone, unit)
        await rollup.fold(db)


@pytest.fixture
async def base_only(settings: Settings, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same service reading only the decisions."""
    app = create_app(settings.model_copy(update={"analytics_rollups": False, "rollup_fold_interval_seconds": 0}))
    async with LifespanManager(app), make_client(app, keys["analytics"]) as client:
        yield client


async def test_basis_without_rollups_equals_zoneinfo(client, base_only):
    await _load(client)
    for zone in ("America/New_York", "Pacific/Auckland", "Asia/Kathmandu"):
        for unit in ("week", "month"):
            assert await _answers(base_only, zone, unit, False) == reference(zone, unit, False), (zone, unit)


QUESTIONS = [
    {"bucket": "month", "weight": "budget", "currency": "EUR"},
    {"bucket": "quarter", "group_by": "owner", "weight": "budget", "currency": "EUR"},
    {"bucket": "month", "owner": "boris.ivanov"},
    {"bucket": "year", "owner": "anna.petrova", "group_by": "owner", "basis_class": "emotion"},
    {"bucket": "month", "group_by": "category", "basis_class": "data"},
    {"bucket": "none"},
    {"bucket": "month", "from": "2025-10-15T07:00:00Z", "to": "2026-11-01T04:00:00Z"},
]


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Auckland", "Asia/Kathmandu"])
async def test_rollup_answers_in_a_zone_equal_the_decisions_answers(client, base_only, db, zone):
    """Budgets, filters and groupings too: the rows moved between months carry every figure."""
    await _load(client)
    await rollup.fold(db)
    for question in QUESTIONS:
        params = {**RANGE, "tz": zone, **question}
        assert (await get_json(client, BASIS, **params))["rows"] == (await get_json(base_only, BASIS, **params))[
            "rows"
        ], params


async def test_bare_dates_are_local_midnights_and_timestamps_are_instants(client):
    body = await get_json(client, BASIS, **{"from": "2026-03-01", "to": "2026-04-01"}, tz="Asia/Kathmandu")
    assert (body["from"], body["to"], body["tz"]) == (
        "2026-02-28T18:15:00.000000Z",
        "2026-03-31T18:15:00.000000Z",
        "Asia/Kathmandu",
    )
    assert [row["period_start"] for row in body["rows"]] == ["2026-03-01"]

    # New York on the day it springs forward (2026-03-08, EST) and the day after (EDT).
    body = await get_json(
        client, BASIS, **{"from": "2026-03-08", "to": "2026-03-09T12:00:00Z"}, tz="America/New_York", bucket="week"
    )
    assert (body["from"], body["to"]) == ("2026-03-08T05:00:00.000000Z", "2026-03-09T12:00:00.000000Z")
    assert [row["period_start"] for row in body["rows"]] == ["2026-03-02", "2026-03-09"]


async def test_one_decision_counts_in_its_local_month(client):
    """The issue's example: 09:00 on the 1st of March in Vladivostok is February in UTC."""
    await factories.person(client, "anna.petrova")
    await factories.decision(client, basis="intuition", evidence=[], decided_at="2026-03-01T09:00:00+10:00")
    window = {"from": "2026-02-01", "to": "2026-04-01"}

    local = await get_json(client, BASIS, **window, tz="Asia/Vladivostok")
    utc = await get_json(client, BASIS, **window, tz="UTC")

    assert [(r["period_start"], r["total"]) for r in local["rows"]] == [("2026-02-01", 0), ("2026-03-01", 1)]
    assert [(r["period_start"], r["total"]) for r in utc["rows"]] == [("2026-02-01", 1), ("2026-03-01", 0)]


async def test_strategy_change_series_in_local_weeks(client):
    # Sunday 2026-03-08 23:30 in New York is Monday 03:30 UTC: the week of 2026-03-02 there, of 2026-03-09 in UTC.
    await factories.strategy(client, "growth")
    await factories.version(client, "growth", effective_from="2026-01-01T00:00:00Z", summary="v1")
    await factories.version(client, "growth", effective_from="2026-03-09T03:30:00Z", summary="v2", change_reason="x")
    window = {"from": "2026-02-01", "to": "2026-04-01", "bucket": "week"}

    local = await get_json(client, "/v1/analytics/strategy-changes", **window, tz="America/New_York")
    utc = await get_json(client, "/v1/analytics/strategy-changes", **window)

    assert [(r["period_start"], r["changes"]) for r in local["series"]] == [("2026-03-02", 1)]
    assert [(r["period_start"], r["changes"]) for r in utc["series"]] == [("2026-03-09", 1)]
    assert (local["tz"], utc["tz"]) == ("America/New_York", "UTC")


ENDPOINTS = ["basis", "strategy-changes", "kpis", "accountability", "outcomes", "summary"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_every_endpoint_echoes_the_zone_in_json_and_csv(client, endpoint):
    params = {"from": "2026-01-01", "to": "2026-02-01", "tz": "Asia/Kolkata"}
    as_json = await client.get(f"/v1/analytics/{endpoint}", params=params)
    as_csv = await client.get(f"/v1/analytics/{endpoint}", params={**params, "format": "csv"})

    assert as_json.status_code == as_csv.status_code == 200, as_json.text
    assert as_json.json()["tz"] == "Asia/Kolkata"
    assert as_json.json()["from"] == "2025-12-31T18:30:00.000000Z"
    assert as_json.headers["time-zone"] == as_csv.headers["time-zone"] == "Asia/Kolkata"
    parse_csv(as_csv)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "utc", "../../etc/passwd", "", "+05:30"])
async def test_unknown_zone_is_422_naming_tz(client, endpoint, zone):
    response = await client.get(f"/v1/analytics/{endpoint}", params={"tz": zone})

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [(error["loc"], error["type"]) for error in body["errors"]] == [
        (["query", "tz"], "value_error.unknown_time_zone")
    ]


@pytest.fixture
async def kathmandu(settings: Settings, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The same service configured with DECISION_LOG_TIMEZONE=Asia/Kathmandu."""
    app = create_app(settings.model_copy(update={"timezone": "Asia/Kathmandu", "rollup_fold_interval_seconds": 0}))
    async with LifespanManager(app), make_client(app, keys["analytics"]) as client:
        yield client


async def test_changing_the_configured_zone_on_a_populated_database_is_instant_and_exact(client, kathmandu, db):
    """The rollup built while the service ran in UTC answers the new default zone exactly, nothing rebuilt."""
    await _load(client)
    await rollup.fold(db)

    default = await get_json(kathmandu, BASIS, **RANGE, bucket="month")
    asked = await get_json(kathmandu, BASIS, **RANGE, bucket="month", tz="America/New_York")

    assert default["tz"] == "Asia/Kathmandu"
    assert [(r["period_start"], None, r["total"]) for r in default["rows"]] == reference(
        "Asia/Kathmandu", "month", False
    )
    assert [(r["period_start"], None, r["total"]) for r in asked["rows"]] == reference(
        "America/New_York", "month", False
    )


def test_unknown_configured_zone_is_refused_at_start():
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Settings(timezone="Europe/Atlantis")
    assert Settings(timezone="Pacific/Chatham").timezone == "Pacific/Chatham"


async def test_a_caller_without_a_key_is_refused_before_the_zone_is_read(anon):
    response = await anon.get(BASIS, params={"tz": "Mars/Olympus_Mons"})

    assert response.status_code == 401, response.text
