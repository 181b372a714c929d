"""One calendar on both engines: the SQL buckets (PostgreSQL's date_trunc, SQLite's string arithmetic) equal the
Python calendar that zero-fills the answers (app.analytics.service.bucket_start), and both equal the dates written
here by hand, at the instants where calendars go wrong: ISO weeks that start in the previous year, quarter and
month starts, leap days, a microsecond before midnight, timestamps sent with other zones. Run on PostgreSQL with
TZ and PGTZ set far from UTC (CI uses Asia/Vladivostok) this also proves that bucketing ignores the zone of the
process and of the database session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.analytics.schemas import Bucket
from app.analytics.service import bucket_start
from tests import factories
from tests.analytics.dataset import basis_row, get_json

# instant as sent → (ISO week's Monday, month, quarter, year), all by hand.
PAST = {
    "1999-12-31T23:59:59.999999Z": ("1999-12-27", "1999-12-01", "1999-10-01", "1999-01-01"),  # Friday
    "2000-01-01T00:00:00Z": ("1999-12-27", "2000-01-01", "2000-01-01", "2000-01-01"),  # Saturday
    "2016-02-29T23:59:59.999999Z": ("2016-02-29", "2016-02-01", "2016-01-01", "2016-01-01"),  # leap day, Monday
    "2020-12-31T23:59:59.999999Z": ("2020-12-28", "2020-12-01", "2020-10-01", "2020-01-01"),  # Thursday
    "2020-12-31T23:30:00-01:00": ("2020-12-28", "2021-01-01", "2021-01-01", "2021-01-01"),  # 2021-01-01 00:30Z
    "2021-01-01T00:00:00Z": ("2020-12-28", "2021-01-01", "2021-01-01", "2021-01-01"),  # Friday: week 53 of 2020
    "2021-01-03T23:59:59.999999Z": ("2020-12-28", "2021-01-01", "2021-01-01", "2021-01-01"),  # Sunday
    "2021-01-04T00:00:00Z": ("2021-01-04", "2021-01-01", "2021-01-01", "2021-01-01"),  # Monday: week 1 of 2021
    "2022-01-02T23:59:59.999999Z": ("2021-12-27", "2022-01-01", "2022-01-01", "2022-01-01"),  # Sunday
    "2023-01-01T00:00:00Z": ("2022-12-26", "2023-01-01", "2023-01-01", "2023-01-01"),  # Sunday
    "2024-02-29T12:00:00Z": ("2024-02-26", "2024-02-01", "2024-01-01", "2024-01-01"),  # leap day, Thursday
    "2024-02-29T23:59:59.999999Z": ("2024-02-26", "2024-02-01", "2024-01-01", "2024-01-01"),
    "2024-03-31T23:59:59.999999Z": ("2024-03-25", "2024-03-01", "2024-01-01", "2024-01-01"),  # Sunday
    "2024-04-01T00:00:00Z": ("2024-04-01", "2024-04-01", "2024-04-01", "2024-01-01"),  # Monday
    "2024-12-29T23:59:59.999999Z": ("2024-12-23", "2024-12-01", "2024-10-01", "2024-01-01"),  # Sunday
    "2024-12-30T00:00:00Z": ("2024-12-30", "2024-12-01", "2024-10-01", "2024-01-01"),  # Monday: week 1 of 2025
    "2025-01-01T00:00:00Z": ("2024-12-30", "2025-01-01", "2025-01-01", "2025-01-01"),  # Wednesday
    "2025-06-30T23:59:59.999999Z": ("2025-06-30", "2025-06-01", "2025-04-01", "2025-01-01"),  # Monday
    "2025-07-01T00:00:00Z": ("2025-06-30", "2025-07-01", "2025-07-01", "2025-01-01"),  # Tuesday
    "2025-09-30T23:59:59.999999Z": ("2025-09-29", "2025-09-01", "2025-07-01", "2025-01-01"),  # Tuesday
    "2025-10-01T00:00:00Z": ("2025-09-29", "2025-10-01", "2025-10-01", "2025-01-01"),  # Wednesday
    "2026-01-01T09:00:00+10:00": ("2025-12-29", "2025-12-01", "2025-10-01", "2025-01-01"),  # 2025-12-31 23:00Z
    "2026-03-01T00:30:00+01:00": ("2026-02-23", "2026-02-01", "2026-01-01", "2026-01-01"),  # 2026-02-28 23:30Z
    "2026-05-17T23:59:59.999999Z": ("2026-05-11", "2026-05-01", "2026-04-01", "2026-01-01"),  # Sunday
    "2026-05-18T00:00:00Z": ("2026-05-18", "2026-05-01", "2026-04-01", "2026-01-01"),  # Monday
}
# Still ahead when this was written (decisions may not be dated in the future; strategy versions may).
AHEAD = {
    "2026-12-28T00:00:00Z": ("2026-12-28", "2026-12-01", "2026-10-01", "2026-01-01"),  # Monday: week 53 of 2026
    "2026-12-31T23:59:59.999999Z": ("2026-12-28", "2026-12-01", "2026-10-01", "2026-01-01"),  # Thursday
    "2027-01-01T00:00:00Z": ("2026-12-28", "2027-01-01", "2027-01-01", "2027-01-01"),  # Friday
    "2027-01-03T23:59:59.999999Z": ("2026-12-28", "2027-01-01", "2027-01-01", "2027-01-01"),  # Sunday
    "2027-01-04T00:00:00Z": ("2027-01-04", "2027-01-01", "2027-01-01", "2027-01-01"),  # Monday: week 1 of 2027
}
ALL = {**PAST, **AHEAD}
UNITS = ("week", "month", "quarter", "year")


def expected(instants: dict[str, tuple[str, ...]], unit: str) -> dict[str, str]:
    return {instant: dates[UNITS.index(unit)] for instant, dates in instants.items()}


def utc(instant: str) -> datetime:
    return datetime.fromisoformat(instant).astimezone(UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("unit", UNITS)
def test_python_calendar_equals_hand_written_dates(unit):
    found = {instant: bucket_start(utc(instant), Bucket(unit)).isoformat() for instant in ALL}

    assert found == expected(ALL, unit)


async def test_sql_buckets_of_decisions_equal_hand_written_dates_and_python_calendar(client):
    await factories.person(client, "anna.petrova")
    # Each instant is its own team, so the SQL bucket of each decision can be read from one grouped answer.
    teams = {instant: f"t{n:02d}" for n, instant in enumerate(PAST)}
    items = [
        {
            "title": "Tricky instant",
            "rationale": "Calendar test.",
            "basis": "intuition",
            "owner": "anna.petrova",
            "team": teams[instant],
            "decided_at": instant,
        }
        for instant in PAST
    ]
    response = await client.post("/v1/decisions/batch", json={"items": items})
    assert response.status_code == 201, response.text

    for unit in UNITS:
        # Grouped: only the SQL's buckets, no zero-filling.
        grouped = await get_json(
            client, "/v1/analytics/basis", **{"from": "1999-01-01", "to": "2027-01-01"}, bucket=unit, group_by="team"
        )
        by_team = {row["group"]: row["period_start"] for row in grouped["rows"]}
        assert all(row["total"] == 1 for row in grouped["rows"]), grouped["rows"]
        assert {instant: by_team[teams[instant]] for instant in PAST} == expected(PAST, unit), unit

        # Not grouped, over [instant, instant + 1 µs): the one bucket the Python calendar zero-fills must be the
        # one the SQL counted the decision in.
        for instant, day in expected(PAST, unit).items():
            moment = utc(instant)
            window = {"from": stamp(moment), "to": stamp(moment + timedelta(microseconds=1))}
            body = await get_json(client, "/v1/analytics/basis", **window, bucket=unit, group_by="none")
            assert body["rows"] == [basis_row(day, None, 1, 0, 1, 0, 0.0, 1.0)], (unit, instant)


async def test_sql_buckets_of_strategy_changes_equal_hand_written_dates(client):
    # Each instant is the second version of its own strategy (the first lies long before).
    keys = {instant: f"s{n:02d}" for n, instant in enumerate(ALL)}
    for instant, key in keys.items():
        await factories.strategy(client, key)
        await factories.version(client, key, effective_from="1990-01-01T00:00:00Z", summary="v1")
        await factories.version(client, key, effective_from=instant, summary="v2", change_reason="Calendar test.")

    for unit in UNITS:
        body = await get_json(
            client, "/v1/analytics/strategy-changes", **{"from": "1995-01-01", "to": "2028-01-01"}, bucket=unit
        )
        by_key = {row["strategy"]: row["period_start"] for row in body["series"]}
        assert all(row["changes"] == 1 for row in body["series"]), body["series"]
        assert {instant: by_key[keys[instant]] for instant in ALL} == expected(ALL, unit), unit
