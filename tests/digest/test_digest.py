"""GET /v1/digest: the week (or month) against the one before, in the team's time zone, as JSON, Markdown or
HTML."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.digest.dataset import PREVIOUS_WEEK, TZ, WEEK, two_weeks

PARAMS = {"at": "2026-11-26", "tz": TZ}


async def test_week_against_the_week_before_exact_figures(client: httpx.AsyncClient) -> None:
    made = await two_weeks(client)

    response = await client.get("/v1/digest", params=PARAMS)

    assert response.status_code == 200, response.text
    assert response.headers["Time-Zone"] == TZ
    body = response.json()
    assert (body["period"], body["tz"], body["period_start"], body["period_end"]) == ("week", TZ, WEEK, "2026-11-29")
    assert (body["from"], body["to"]) == ("2026-11-22T23:00:00.000000Z", "2026-11-29T23:00:00.000000Z")
    assert (body["previous_from"], body["previous_to"]) == ("2026-11-15T23:00:00.000000Z", body["from"])
    current, previous, change = body["current"], body["previous"], body["change"]
    assert {k: current[k] for k in ("decisions", "data", "emotion", "emotion_unsupported")} == {
        "decisions": 4,
        "data": 1,
        "emotion": 3,
        "emotion_unsupported": 1,
    }
    assert (current["data_share"], current["emotion_share"]) == (0.25, 0.75)
    assert (previous["decisions"], previous["data_share"], previous["emotion_share"]) == (2, 1.0, 0.0)
    assert (change["decisions"], change["data_share"], change["emotion_share"]) == (2, -0.75, 0.75)
    assert (current["strategy_changes"], current["unexplained_strategy_changes"]) == (1, 1)
    assert (current["reviews_due"], current["overdue_reviews"]) == (1, 1)
    assert change["reviews_due"] == 1
    assert change.keys() == current.keys()
    # The digest's figures are the summary's over each period: a figure the summary gains is in the digest too.
    for figures, start, end in ((current, body["from"], body["to"]), (previous, body["previous_from"], body["from"])):
        summary = await client.get("/v1/analytics/summary", params={"from": start, "to": end, "tz": TZ})
        assert summary.json()["rows"] == [figures]
    [change_of_strategy] = body["strategy_changes"]
    assert change_of_strategy == {
        "strategy": "growth-2026",
        "title": "Growth-2026",
        "version": 2,
        "summary": "Video <first>",
        "effective_from": "2026-11-24T09:00:00.000000Z",
        "change_reason": None,
        "explained": False,
        "hasty": False,
    }
    assert [(d["id"], d["budget_amount"], d["budget_currency"]) for d in body["emotional_budgets"]] == [
        (made["boss"]["id"], 12000, "EUR"),
        (made["hunch"]["id"], 5000, "EUR"),
        (made["claim"]["id"], 300, "USD"),
    ]
    [overdue] = body["overdue_reviews"]
    assert overdue == {
        "id": made["boss"]["id"],
        "title": "The boss wants TV",
        "owner": "boris.ivanov",
        "basis_class": "emotion",
        "budget_amount": 12000,
        "budget_currency": "EUR",
        "decided_at": "2026-11-25T10:00:00.000000Z",
        "review_by": "2026-11-27T12:00:00.000000Z",
    }


async def test_the_previous_week_is_reported_from_any_of_its_dates(client: httpx.AsyncClient) -> None:
    await two_weeks(client)

    body = (await client.get("/v1/digest", params={"at": "2026-11-22", "tz": TZ})).json()

    assert (body["period_start"], body["current"]["decisions"], body["previous"]["decisions"]) == (PREVIOUS_WEEK, 2, 0)
    assert body["change"]["data_share"] is None  # nothing decided the week before it


async def test_in_utc_the_berlin_monday_is_the_week_before(client: httpx.AsyncClient) -> None:
    await two_weeks(client)

    body = (await client.get("/v1/digest", params={"at": "2026-11-26", "tz": "UTC"})).json()

    assert (body["current"]["decisions"], body["previous"]["decisions"]) == (3, 3)


async def test_month(client: httpx.AsyncClient) -> None:
    await two_weeks(client)

    body = (await client.get("/v1/digest", params={"period": "month", "at": "2026-11-01", "tz": TZ})).json()

    assert (body["period_start"], body["period_end"]) == ("2026-11-01", "2026-11-30")
    assert (body["current"]["decisions"], body["previous"]["decisions"], body["change"]["decisions"]) == (6, 0, 6)
    assert body["previous_from"] == "2026-09-30T22:00:00.000000Z"  # October began in summer time


async def test_default_is_the_last_complete_week(client: httpx.AsyncClient) -> None:
    today = datetime.now(ZoneInfo(TZ)).date()
    last_monday = today - timedelta(days=today.weekday() + 7)

    body = (await client.get("/v1/digest", params={"tz": TZ})).json()

    assert (body["period_start"], body["period_end"]) == (str(last_monday), str(last_monday + timedelta(days=6)))


async def test_markdown_is_readable_in_a_chat(client: httpx.AsyncClient) -> None:
    await two_weeks(client)

    response = await client.get("/v1/digest", params={**PARAMS, "format": "markdown"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    text = response.text
    assert text.startswith(f"**Decision digest: Week of {WEEK} to 2026-11-29** ({TZ}), against the week before\n")
    lines = text.splitlines()
    assert "- Decisions recorded: **4** (+2; was 2)" in lines
    assert "- Share decided on data: **25.0 %** (-75.0 pts; was 100.0 %)" in lines
    assert "- Unexplained strategy changes: **1** (+1; was 0)" in lines
    assert "- growth-2026 v2: Video <first> (no reason given)" in lines
    assert "- 12000 EUR: The boss wants TV (boris.ivanov)" in lines
    assert "- The boss wants TV (boris.ivanov), review due 2026-11-27, 12000 EUR" in lines


async def test_html_escapes_and_answers_by_accept(client: httpx.AsyncClient) -> None:
    await two_weeks(client)

    response = await client.get("/v1/digest", params=PARAMS, headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert (
        '<tr data-figure="decisions"><td>Decisions recorded</td><td align="right"><strong>4</strong></td>'
        '<td align="right">2</td><td align="right">+2</td></tr>'
    ) in page
    assert "Video &lt;first&gt;" in page and "Video <first>" not in page
    markdown = await client.get("/v1/digest", params=PARAMS, headers={"Accept": "text/markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    json = await client.get("/v1/digest", params=PARAMS, headers={"Accept": "*/*"})
    assert json.headers["content-type"] == "application/json"


async def test_bad_parameters_are_422_naming_them(client: httpx.AsyncClient) -> None:
    for params, loc in (
        ({"period": "year"}, ["query", "period"]),
        ({"at": "2026-13-01"}, ["query", "at"]),
        ({"at": "0001-01-01"}, ["query", "at"]),
        ({"at": "0"}, ["query", "at"]),  # a number is not a date (pydantic would read a Unix time)
        ({"at": "20261201"}, ["query", "at"]),
        ({"at": "2026-12-01T00:00:00Z"}, ["query", "at"]),
        ({"at": "9999-12-31", "period": "month"}, ["query", "at"]),
        ({"format": "pdf"}, ["query", "format"]),
        ({"tz": "Mars/Olympus"}, ["query", "tz"]),
    ):
        response = await client.get("/v1/digest", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["loc"] for e in response.json()["errors"]] == [loc]


async def test_needs_the_analytics_scope(client_for: Any, anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/v1/digest")).status_code == 401
    analytics = client_for("analytics")
    assert (await analytics.get("/v1/digest")).status_code == 200
