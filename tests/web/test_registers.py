"""The strategies, KPIs and people pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.analytics.conftest import dataset  # noqa: F401  (the fixed data set, as a fixture)


async def test_strategies_show_their_versions_reasons_and_what_changed(reader, client, dataset):  # noqa: F811
    listing = (await reader.get("/ui/strategies")).text
    assert 'href="/ui/strategies/growth-2026"' in listing and 'href="/ui/strategies/brand-refresh"' in listing
    page = await reader.get("/ui/strategies/growth-2026")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h3>v") == 4 and "Budget cut." in html
    assert html.count("no reason given") == 2  # v3 ("") and v4 ("   ")
    assert 'class="removed"' in html and 'class="added"' in html  # the summaries changed from version to version
    assert 'data-chart="strategy-versions"' in html
    assert (await reader.get("/ui/strategies/no-such-strategy")).status_code == 404


async def test_a_kpi_shows_its_revisions_and_how_it_stood_on_a_date(reader, client):
    await factories.person(client, "anna.petrova")
    await factories.kpi(client, "cpa", target=40, direction="decrease")
    await factories.kpi(client, "cpa", target=35, direction="decrease", owner="anna.petrova", change_reason="Q2 plan.")
    page = (await reader.get("/ui/kpis/cpa")).text
    assert "Revision 2" in page and "Q2 plan." in page and "anna.petrova" in page
    today = datetime.now(UTC).date()
    stood = (await reader.get("/ui/kpis/cpa", params={"at": today.isoformat()})).text
    assert re.search(r"<dt>Target</dt><dd>35", stood.split('id="at-title"', 1)[1])
    before = (await reader.get("/ui/kpis/cpa", params={"at": (today - timedelta(days=1)).isoformat()})).text
    assert "did not exist yet" in before
    assert 'href="/ui/kpis/cpa"' in (await reader.get("/ui/kpis")).text


async def test_people_show_their_accountability_and_recent_decisions(reader, client, dataset):  # noqa: F811
    listing = (await reader.get("/ui/people", params={"from": "2026-01-01", "to": "2026-09-30"})).text
    row = listing.split("anna.petrova", 1)[1].split("</tr>", 1)[0]
    span = {"from": "2026-01-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}
    api = (await client.get("/v1/analytics/accountability", params=span)).json()["rows"]
    anna = next(r for r in api if r["owner"] == "anna.petrova")
    assert anna["decisions"] == 5  # D1, D2, D6, D7 and D8
    assert re.findall(r'<td class="num">([^<]+)</td>', row) == ["5", "60%", str(anna["reviewed"]), "1", "40%"]
    person = (await reader.get("/ui/people/anna.petrova", params={"from": "2026-01-01", "to": "2026-09-30"})).text
    assert person.count('href="/ui/decisions/') >= 5
    assert (await reader.get("/ui/people/nobody")).status_code == 404
