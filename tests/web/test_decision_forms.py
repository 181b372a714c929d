"""The forms that record, correct, review and reverse decisions: the API's rules, refusals beside the fields with
nothing written, one decision per double submit, conflicts on stale corrections."""

from __future__ import annotations

import re
from html import unescape

import httpx

from tests import factories
from tests.web.helpers import browser_for, csrf_of, sign_in

FORM = {
    "title": "Move 10% of the display budget to email",
    "rationale": "Email converts at 2.1% against 0.4% for display.",
    "basis": "data",
    "category": "budget",
    "owner": "anna.petrova",
    "channel": "email",
    "decided_at": "2026-03-01T10:00:00",
    "evidence.0.source": "ga4",
    "evidence.0.reference": "https://analytics.example.com/r/7",
    "evidence.0.metric": "conversion_rate",
    "evidence.0.value": "0,021",
    "budget_amount": "12 500,50",
    "budget_currency": "EUR",
    "expected_outcome.description": "CPA below 35 EUR",
    "expected_outcome.review_by": "2026-06-01T00:00:00",
    "tags": "q1, email",
}


async def _form(browser: httpx.AsyncClient, path: str = "/ui/decisions/new") -> tuple[str, dict[str, str]]:
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    return page.text, hidden_fields(page.text)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden fields of a page's forms, as a browser sends them."""
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html)
    }


async def test_recording_a_decision_through_the_form_stores_what_the_api_shows(writer, client):
    await factories.basics(client)
    page, hidden = await _form(writer)
    assert 'name="evidence.0.source"' in page and 'name="expected_outcome.review_by"' in page
    answer = await writer.post("/ui/decisions", data={**FORM, **hidden, "participants": ["boris.ivanov"]})
    assert answer.status_code == 303, answer.text
    decision_id = answer.headers["location"].split("/")[-1].split("?")[0]
    stored = (await client.get(f"/v1/decisions/{decision_id}")).json()
    assert stored["title"] == FORM["title"] and stored["basis_class"] == "data"
    assert stored["evidence"] == [
        {
            "source": "ga4",
            "reference": "https://analytics.example.com/r/7",
            "metric": "conversion_rate",
            "value": 0.021,
            "note": None,
        }
    ]
    assert (stored["budget_amount"], stored["budget_currency"]) == (12500.5, "EUR")
    assert stored["decided_at"] == "2026-03-01T10:00:00.000000Z"
    assert stored["expected_outcome"]["review_by"] == "2026-06-01T00:00:00.000000Z"
    assert (stored["participants"], stored["tags"], stored["recorded_by"]) == (
        ["boris.ivanov"],
        ["q1", "email"],
        "test-write",
    )
    shown = await writer.get(answer.headers["location"])
    assert "The decision is recorded." in shown.text


async def test_a_refused_form_shows_each_problem_beside_its_field_and_writes_nothing(writer, client):
    await factories.basics(client)
    _, hidden = await _form(writer)
    bad = {
        **FORM,
        **hidden,
        "rationale": "",
        "evidence.1.source": "gaa4",
        "evidence.1.reference": "x",
        "budget_amount": "lots",
        "channel": "Paid Search",
    }
    answer = await writer.post("/ui/decisions", data=bad, headers={"Accept-Language": "ru"})
    assert answer.status_code == 422
    html = answer.text
    for name in ("budget_amount",):
        assert f'id="{name}" name="{name}"' in html and f'aria-describedby="{name}-error"' in html
    assert "Должно быть числом." in html  # the budget, in Russian
    assert 'value="Move 10% of the display budget to email"' in html  # what was typed is kept
    fixed_budget = {**bad, "budget_amount": "100"}
    answer = await writer.post("/ui/decisions", data=fixed_budget)
    assert answer.status_code == 422
    assert 'id="rationale-error"' in answer.text and "Required." in answer.text
    assert 'id="channel-error"' in answer.text and "paid_search" in answer.text
    almost = {**fixed_budget, "rationale": "Email converts better.", "channel": "email"}
    answer = await writer.post("/ui/decisions", data=almost)
    assert answer.status_code == 422  # the service's own check: an unknown data source, in evidence row 2
    assert 'id="evidence-1-source-error"' in answer.text and "gaa4" in answer.text
    assert (await client.get("/v1/decisions")).json()["items"] == []
    fine = {**almost, "evidence.1.source": "crm"}
    assert (await writer.post("/ui/decisions", data=fine)).status_code == 303  # the same key, once corrected


async def test_a_double_submit_records_one_decision(writer, client):
    await factories.basics(client)
    _, hidden = await _form(writer)
    first = await writer.post("/ui/decisions", data={**FORM, **hidden})
    second = await writer.post("/ui/decisions", data={**FORM, **hidden})
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len((await client.get("/v1/decisions")).json()["items"]) == 1


async def test_a_correction_from_a_stale_form_is_a_conflict_and_a_fresh_one_a_revision(writer, client):
    await factories.basics(client)
    created = await factories.decision(client, decided_at="2026-03-01T10:00:00.123456Z")
    _, hidden = await _form(writer, f"/ui/decisions/{created['id']}/edit")
    assert hidden["etag"].startswith('"') and hidden["etag"].endswith('"')
    await factories.edit(client, created["id"], title="Changed elsewhere meanwhile")
    page = (await writer.get(f"/ui/decisions/{created['id']}/edit")).text
    fields = dict(re.findall(r'<input id="([a-z_.0-9]+)" name="[^"]+" type="[a-z-]+" value="([^"]*)"', page))
    stale = {
        **fields,
        **hidden,
        "title": "My title",
        "edit_reason": "Clearer title.",
        "basis": "data",
        "category": "budget",
        "owner": "anna.petrova",
        "rationale": created["rationale"],
        "evidence.0.source": "ga4",
    }
    conflict = await writer.post(f"/ui/decisions/{created['id']}/edit", data=stale)
    assert conflict.status_code == 409
    assert "Someone else changed this decision" in conflict.text and 'value="My title"' in conflict.text
    fresh = hidden_fields(conflict.text)
    saved = await writer.post(f"/ui/decisions/{created['id']}/edit", data={**stale, **fresh})
    assert saved.status_code == 303, saved.text
    revisions = (await client.get(f"/v1/decisions/{created['id']}/revisions")).json()["items"]
    assert [r["reason"] for r in revisions] == [None, "Correction.", "Clearer title."]
    assert set(revisions[-1]["changes"]) == {"title"}  # the fields left alone are not sent, not even decided_at
    assert revisions[-1]["decision"]["decided_at"] == "2026-03-01T10:00:00.123456Z"


async def test_outcome_and_reversal_forms(app_instance, client, client_for, keys):
    await factories.basics(client)
    old = await factories.decision(client)
    new = await factories.decision(client, title="The new plan")
    body = {"name": "boris-browser", "scope": "write", "person": "boris.ivanov"}
    boris_key = (await client_for("admin").post("/v1/keys", json=body)).json()["key"]
    async with browser_for(app_instance) as boris:
        await sign_in(boris, boris_key)
        page = (await boris.get(f"/ui/decisions/{old['id']}")).text
        assert 'id="reviewed_by" name="reviewed_by" value="boris.ivanov"' in page
        token = csrf_of(await boris.get(f"/ui/decisions/{old['id']}"))
        etag = hidden_fields(page)["etag"]
        refused = await boris.post(f"/ui/decisions/{old['id']}/outcome", data={"csrf_token": token, "etag": etag})
        assert refused.status_code == 422 and 'id="outcome-result-error"' in refused.text
        done = await boris.post(
            f"/ui/decisions/{old['id']}/outcome",
            data={"csrf_token": token, "etag": etag, "result": "success", "actual_value": "37,5", "reviewed_by": ""},
        )
        assert done.status_code == 303, done.text
        outcome = (await client.get(f"/v1/decisions/{old['id']}")).json()["outcome"]
        assert (outcome["result"], outcome["actual_value"], outcome["reviewed_by"]) == ("success", 37.5, "boris.ivanov")
        page = (await boris.get(f"/ui/decisions/{old['id']}")).text
        etag = hidden_fields(page)["etag"]
        reversed_ = await boris.post(
            f"/ui/decisions/{old['id']}/reverse",
            data={
                "csrf_token": token,
                "etag": etag,
                "reason": "Replaced.",
                "by": "boris.ivanov",
                "superseded_by": new["id"],
            },
        )
        assert reversed_.status_code == 303, reversed_.text
    assert (await client.get(f"/v1/decisions/{old['id']}")).json()["status"] == "superseded"


async def test_forms_need_the_write_scope_and_their_csrf_token(reader, writer, client):
    await factories.basics(client)
    assert (await reader.get("/ui/decisions/new")).status_code == 403
    _, hidden = await _form(writer)
    forged = await writer.post("/ui/decisions", data={**FORM, **hidden, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await client.get("/v1/decisions")).json()["items"] == []


async def test_the_forms_record_and_correct_the_decision_quality_fields_and_the_page_shows_them(writer, client):
    await factories.basics(client)
    await factories.kpi(client, "cpa", direction="decrease")
    page, hidden = await _form(writer)
    for name in ("confidence", "alternatives.0.title", "data_recommendation.option", "expected_outcome.direction"):
        assert f'name="{name}"' in page
    quality = {
        "confidence": "0,75",
        "alternatives.0.title": "Keep display",
        "alternatives.0.reason_rejected": "Converts at 0.4%.",
        "data_recommendation.option": "Move budget to email",
        "data_recommendation.followed": "false",
        "expected_outcome.kpi": "cpa",
        "expected_outcome.target_value": "35",
    }
    answer = await writer.post("/ui/decisions", data={**FORM, **hidden, **quality})
    assert answer.status_code == 303, answer.text
    decision_id = answer.headers["location"].split("/")[-1].split("?")[0]
    stored = (await client.get(f"/v1/decisions/{decision_id}")).json()
    assert stored["confidence"] == 0.75
    assert stored["alternatives"] == [{"title": "Keep display", "reason_rejected": "Converts at 0.4%."}]
    assert stored["data_recommendation"] == {"option": "Move budget to email", "followed": False}
    assert stored["expected_outcome"]["direction"] == "decrease"  # the KPI's

    other = await factories.decision(
        client,
        decided_at="2026-03-02T10:00:00Z",
        expected_outcome={"description": "Up", "kpi": "cpa", "direction": "increase"},
    )
    shown = (await writer.get(f"/ui/decisions/{decision_id}")).text
    assert "75 %" in shown and "Keep display" in shown and "Move budget to email" in shown
    assert f'href="/ui/decisions/{other["id"]}"' in shown  # contradicts
    russian = (await writer.get(f"/ui/decisions/{decision_id}", params={"lang": "ru"})).text
    assert "Уверенность" in russian and "вопреки данным" in russian

    refused = await writer.post("/ui/decisions", data={**FORM, **hidden, "confidence": "1.5", "idempotency_key": "x2"})
    assert refused.status_code == 422
    assert 'id="confidence-error"' in refused.text

    _, hidden = await _form(writer, f"/ui/decisions/{decision_id}/edit")
    edit_page = (await writer.get(f"/ui/decisions/{decision_id}/edit")).text
    assert 'value="0.75"' in edit_page and 'value="Keep display"' in edit_page
    fields = dict(re.findall(r'<input id="([a-z_.0-9]+)" name="[^"]+" type="[a-z-]+" value="([^"]*)"', edit_page))
    corrected = {
        **fields,
        **hidden,
        "basis": "data",
        "category": "budget",
        "owner": "anna.petrova",
        "rationale": FORM["rationale"],
        "evidence.0.source": "ga4",
        "expected_outcome.kpi": "cpa",
        "expected_outcome.direction": "decrease",
        "data_recommendation.followed": "true",
        "confidence": "0.6",
        "edit_reason": "Recalibrated.",
    }
    saved = await writer.post(f"/ui/decisions/{decision_id}/edit", data=corrected)
    assert saved.status_code == 303, saved.text
    revisions = (await client.get(f"/v1/decisions/{decision_id}/revisions")).json()["items"]
    assert set(revisions[-1]["changes"]) == {"confidence", "data_recommendation"}
