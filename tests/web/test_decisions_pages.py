"""The decisions list (the API's filters, paging, CSV) and a decision's page (history, links both ways)."""

from __future__ import annotations

import csv
import io
import re

from tests import factories
from tests.analytics.conftest import dataset  # noqa: F401  (the fixed data set, as a fixture)
from tests.web.helpers import browser_for, sign_in

ROW_LINK = re.compile(r'<th scope="row"><a href="/ui/decisions/([0-9a-f-]+)">')


async def test_the_list_takes_the_apis_filters_and_shows_the_same_decisions(reader, client, dataset):  # noqa: F811
    params = {"decided_from": "2026-01-01T00:00:00.000000Z", "decided_to": "2026-10-01T00:00:00.000000Z"}
    for extra in ({}, {"basis_class": "data"}, {"owner": "anna.petrova", "review": "reviewed"}, {"q": "budget"}):
        page = await reader.get("/ui/decisions", params={**params, **extra})
        assert page.status_code == 200, page.text
        api = (await client.get("/v1/decisions", params={**params, **extra})).json()["items"]
        assert ROW_LINK.findall(page.text) == [d["id"] for d in api], extra
    form = (await reader.get("/ui/decisions", params={**params, "basis_class": "data"})).text
    assert '<option value="data" selected>' in form and 'value="2026-01-01"' in form


async def test_the_list_pages_with_the_cursor_and_downloads_what_it_shows(reader, client):
    await factories.basics(client)
    for day in range(1, 56):
        await factories.decision(
            client, title=f"Decision {day}", decided_at=f"2026-0{1 + day // 28}-{1 + day % 28:02d}T10:00:00Z"
        )
    first = await reader.get("/ui/decisions")
    shown = ROW_LINK.findall(first.text)
    assert len(shown) == 50
    following = re.search(r'href="/ui/decisions\?cursor=([^"]+)" rel="next"', first.text)
    assert following
    second = await reader.get("/ui/decisions", params={"cursor": following.group(1).replace("&amp;", "&")})
    rest = ROW_LINK.findall(second.text)
    assert len(rest) == 5 and not set(rest) & set(shown)
    download = await reader.get("/ui/decisions.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == shown
    assert rows[0]["recorded_by"] == "test-write"


async def test_a_decision_page_shows_its_history_and_supersession_both_ways(reader, client):
    await factories.basics(client)
    old = await factories.decision(
        client,
        title="Old plan",
        evidence=[
            {"source": "ga4", "reference": "javascript:alert(1)"},
            {"source": "ga4", "reference": "https://analytics.example.com/r/1"},
        ],
    )
    new = await factories.decision(client, title="New plan")
    await factories.edit(client, old["id"], title="Old plan, corrected", edit_reason="Typo in the title.")
    body = {"reason": "Replaced by the new plan.", "by": "boris.ivanov", "superseded_by": new["id"]}
    assert (await client.post(f"/v1/decisions/{old['id']}/reverse", json=body)).status_code == 200
    page = (await reader.get(f"/ui/decisions/{old['id']}")).text
    assert "Old plan, corrected" in page and "Typo in the title." in page
    assert page.count("Revision ") == 3
    assert f'href="/ui/decisions/{new["id"]}"' in page
    assert 'href="javascript:' not in page and 'href="https://analytics.example.com/r/1"' in page
    other = (await reader.get(f"/ui/decisions/{new['id']}")).text
    assert "Supersedes" in other and f'href="/ui/decisions/{old["id"]}"' in other
    missing = await reader.get("/ui/decisions/01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b")
    assert missing.status_code == 404 and "<html" in missing.text
    nowhere = await reader.get("/ui/no-such-page", headers={"Accept-Language": "ru"})
    assert nowhere.status_code == 404 and "Не найдено" in nowhere.text  # noqa: RUF001


async def test_records_need_the_read_scope(app_instance, keys, db):
    async with browser_for(app_instance) as browser:
        await sign_in(browser, keys["analytics"])
        refused = await browser.get("/ui/decisions")
        assert refused.status_code == 403 and "read" in refused.text
        assert 'href="/ui/decisions"' not in (await browser.get("/ui/")).text


async def test_a_decision_page_names_codes_and_shows_what_changed_member_by_member(reader, client):
    await factories.basics(client)
    made = await factories.decision(
        client,
        basis="authority",
        evidence=[],
        expected_outcome={"description": "CPA under 40", "target_value": 40, "review_by": "2026-06-01T00:00:00Z"},
    )
    await factories.edit(
        client,
        made["id"],
        expected_outcome={"description": "CPA under 40", "target_value": 35, "review_by": "2026-06-01T00:00:00Z"},
        category="channel_mix",
    )
    await factories.outcome(client, made["id"], result="partial")

    page = (await reader.get(f"/ui/decisions/{made['id']}")).text

    assert "made on emotions" in page and "someone&#39;s authority — declared as someone&#39;s call" in page
    assert "partial success" in page
    # The revision changed one member of the expected outcome: that member is the row, not the whole object.
    row = re.search(r'<th scope="row">Expected outcome › Target</th><td>([^<]*)</td><td>([^<]*)</td>', page)  # noqa: RUF001
    assert row is not None and row.groups() == ("40", "35"), page
    assert '"description"' not in page  # no JSON shown
    # An outcome recorded: its members, each from nothing.
    assert re.search(r'<th scope="row">Outcome › Result</th><td>—</td><td>partial success</td>', page)  # noqa: RUF001
    assert re.search(r'<th scope="row">Category</th><td>budget</td><td>channel mix</td>', page)
    for code in ("declared_authority", "outcome_recorded", ">authority<", "channel_mix"):
        assert code not in page

    russian = (await reader.get(f"/ui/decisions/{made['id']}", params={"lang": "ru"})).text
    assert "мнение руководителя — заявлено как решение руководителя" in russian
    assert "частичный успех" in russian and "набор каналов" in russian
    assert re.search(r'<th scope="row">Ожидаемый результат › [^<]+</th><td>40</td><td>35</td>', russian)  # noqa: RUF001
