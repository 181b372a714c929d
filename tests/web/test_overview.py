"""The overview's figures are the API's, for the range the reader picks; the charts; the links; languages."""

from __future__ import annotations

import json
import re
from html import unescape

from app.analytics.schemas import SummaryRow
from tests.analytics.conftest import dataset  # noqa: F401  (the fixed data set, as a fixture)

METRIC = re.compile(r'data-metric="([a-z_]+)" data-value="([^"]*)"')


def metrics(html: str) -> dict[str, object]:
    found = [(name, json.loads(unescape(value))) for name, value in METRIC.findall(html)]
    assert len(found) == len({name for name, _ in found}), "a metric appears twice"
    return dict(found)


async def test_every_summary_figure_is_on_the_overview_as_the_api_gives_it(reader, client_for, dataset):  # noqa: F811
    page = await reader.get("/ui/", params={"from": "2026-01-01", "to": "2026-09-30"})
    assert page.status_code == 200, page.text
    start, end = re.search(r'data-from="([^"]+)" data-to="([^"]+)"', page.text).groups()
    assert (start, end) == ("2026-01-01T00:00:00.000000Z", "2026-10-01T00:00:00.000000Z")
    api = (await client_for("analytics").get("/v1/analytics/summary", params={"from": start, "to": end})).json()
    shown = metrics(page.text)
    assert set(shown) == set(SummaryRow.model_fields)
    assert shown == api["rows"][0]
    assert shown["decisions"] == 11  # D1 to D11


async def test_the_overview_compares_with_the_range_before(reader, client_for, dataset):  # noqa: F811
    page = await reader.get("/ui/", params={"from": "2026-04-01", "to": "2026-06-30"})
    previous = (
        await client_for("analytics").get(
            "/v1/analytics/summary", params={"from": "2025-12-31T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
        )
    ).json()["rows"][0]
    assert previous["decisions"] == 5  # D0 (23:59:59 on Dec 31) and D1 to D4
    block = page.text.split('data-metric="decisions"', 1)[1].split("</a>", 1)[0]
    assert "was 5" in block and "+0" not in block


async def test_the_charts_and_tables_carry_the_figures(reader, dataset):  # noqa: F811
    page = await reader.get("/ui/", params={"from": "2026-01-01", "to": "2026-09-30", "currency": "USD"})
    html = page.text
    assert 'data-chart="basis-by-month"' in html and 'data-chart="strategy-timeline"' in html
    chart = html.split('data-chart="basis-by-month"', 1)[1].split("</figure>", 1)[0]
    assert chart.count('<g class="bar">') == 9  # January to September
    budget = html.split('data-chart="basis-by-month-budget"', 1)[1].split("</figure>", 1)[0]
    assert '<option value="USD" selected>' in budget
    timeline = html.split('data-chart="strategy-timeline"', 1)[1].split("</figure>", 1)[0]
    assert timeline.count('<g class="mark') == 8  # growth-2026 v2 to v4 and brand-refresh v1 to v5 in range
    assert timeline.count('class="mark unexplained') >= 2  # growth-2026 v3 and v4 have blank reasons
    assert "Budget cut." in timeline
    overdue = html.split('id="reviews"', 1)[1]
    assert "/ui/decisions?decided_from=2026-01-01T00%3A00%3A00.000000Z" in overdue


async def test_the_owners_table_sorts_by_the_column_picked(reader, dataset):  # noqa: F811
    def owners(html: str) -> list[str]:
        table = html.split('id="owners"', 1)[1]
        return re.findall(r'<th scope="row"><a href="[^"]+">([a-z.]+)</a>', table)

    picked = {"from": "2026-01-01", "to": "2026-09-30"}
    by_decisions = owners((await reader.get("/ui/", params=picked)).text)
    by_name = owners((await reader.get("/ui/", params={**picked, "sort": "owner"})).text)
    assert by_decisions[0] == "anna.petrova"  # the most decisions
    assert by_name == sorted(by_name) and set(by_name) == set(by_decisions)
    refused = await reader.get("/ui/", params={"sort": "secret_column"})
    assert refused.status_code == 422


async def test_language_from_the_query_then_the_cookie_else_accept_language(reader):
    english = await reader.get("/ui/")
    assert '<html lang="en">' in english.text and "How marketing is managed" in english.text
    by_header = await reader.get("/ui/", headers={"Accept-Language": "de-DE,ru;q=0.8,en;q=0.5"})
    assert '<html lang="ru">' in by_header.text and "Как управляется маркетинг" in by_header.text
    chosen = await reader.get("/ui/", params={"lang": "ru"})
    assert '<html lang="ru">' in chosen.text
    assert "lang=ru" in chosen.headers["set-cookie"]
    kept = await reader.get("/ui/", headers={"Accept-Language": "en"})
    assert '<html lang="ru">' in kept.text  # the cookie the choice set wins over the header
    back = await reader.get("/ui/", params={"lang": "en"})
    assert '<html lang="en">' in back.text


async def test_numbers_and_dates_follow_the_language(reader, dataset):  # noqa: F811
    ru = (await reader.get("/ui/", params={"from": "2026-01-01", "to": "2026-09-30", "lang": "ru"})).text
    en = (await reader.get("/ui/", params={"from": "2026-01-01", "to": "2026-09-30", "lang": "en"})).text
    assert "1 янв. 2026\u202fг." in ru and "Jan 1, 2026" in en  # noqa: RUF001
    assert metrics(en)["data_share"] == 0.4545

    def shown(html: str) -> str:
        return html.split('data-metric="data_share"', 1)[1].split('class="value">', 1)[1].split("<", 1)[0]

    assert (shown(en), shown(ru)) == ("45.4%", "45,4%")  # 5 of 11 decisions, the decimal mark of each language
