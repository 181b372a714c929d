"""Analytics and exports honour the Accept header's q-values (RFC 9110 §12.5.1): CSV only when it is preferred;
`text/csv;q=0` never gets it. CSV cells that a spreadsheet would run as a formula are neutralised, leading
whitespace or not."""

from __future__ import annotations

import csv
import io

import pytest

from tests import factories
from tests.analytics.dataset import R

ANALYTICS = "/v1/analytics/summary"
EXPORT = "/v1/exports/decisions"


@pytest.mark.parametrize(
    ("accept", "csv_"),
    [
        ("text/csv", True),
        ("TEXT/CSV", True),  # media types are case-insensitive
        ("text/csv;q=0", False),
        ("text/csv; q=0.0, */*", False),
        ("text/csv;q=0, application/json;q=0", False),  # nothing acceptable: the header is disregarded
        ("application/json;q=0.5, text/csv", True),
        ("text/csv;q=0.5, application/json", False),
        ("text/*;q=0.9, application/json;q=0.8", True),
        ("text/csv, */*", True),  # the more specific range decides each offer's quality
        ("text/csv, application/json", False),  # a tie: the service's preference
        ("*/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a browser
        ("not a media type", False),
        ("", False),
    ],
)
async def test_analytics_csv_follows_the_accept_q_values(client, accept, csv_):
    response = await client.get(ANALYTICS, params=R, headers={"Accept": accept})

    assert response.status_code == 200, response.text
    expected = "text/csv; charset=utf-8" if csv_ else "application/json"
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize(
    ("accept", "csv_"),
    [
        ("text/csv", True),
        ("text/csv;q=0", False),
        ("application/x-ndjson;q=0.1, text/csv;q=0.2", True),
        ("text/csv;q=0.2, application/x-ndjson", False),
        ("application/json", False),  # neither offer: NDJSON, the default
    ],
)
async def test_export_csv_follows_the_accept_q_values(client, accept, csv_):
    await factories.basics(client)
    await factories.decision(client)

    response = await client.get(EXPORT, headers={"Accept": accept})

    assert response.status_code == 200, response.text
    expected = "text/csv; charset=utf-8" if csv_ else "application/x-ndjson"
    assert response.headers["content-type"] == expected


async def test_format_parameter_wins_over_a_refusing_accept(client):
    response = await client.get(ANALYTICS, params={**R, "format": "csv"}, headers={"Accept": "text/csv;q=0"})

    assert response.headers["content-type"] == "text/csv; charset=utf-8"


FORMULAS = [" =1+1", "   +SUM(A1:A2)", "\u00a0-2", " \t@cmd", "\n=HYPERLINK(1)", " \r=1"]


async def test_csv_neutralises_formulas_after_leading_whitespace(client):
    await factories.basics(client)
    created = [await factories.decision(client, title=title) for title in FORMULAS]
    await factories.decision(client, title="  plain text = fine")

    response = await client.get(EXPORT, params={"format": "csv"})

    titles = {row["id"]: row["title"] for row in csv.DictReader(io.StringIO(response.text, newline=""))}
    assert [titles[d["id"]] for d in created] == ["'" + title for title in FORMULAS]
    assert "  plain text = fine" in titles.values()


async def test_analytics_csv_neutralises_a_kpi_name_with_leading_spaces(client):
    await factories.kpi(client, "cpa", name="  =IMPORTXML(1)")

    response = await client.get("/v1/analytics/kpis", params={"format": "csv"})

    (row,) = csv.DictReader(io.StringIO(response.text, newline=""))
    assert row["name"] == "'  =IMPORTXML(1)"
