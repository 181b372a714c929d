"""The whole system on the pages: a decision shows its contractor, who directed it and its rationale's signals
beside its class; the forms take `contractor`, `directed_by` and a review's `cause` (the API's names), in English
and Russian."""

from __future__ import annotations

from tests import factories
from tests.web.helpers import browser_for, csrf_of, sign_in
from tests.web.test_decision_forms import FORM, _form, hidden_fields


async def _registries(client):
    await factories.basics(client)
    await factories.person(client, "olga.owner", team="board", role="owner")
    await factories.contractor(client, "acme", name="Acme Agency")
    await factories.contractor(client, "gone", name="Gone Agency", active=False)


async def test_the_record_form_takes_contractor_and_directed_by(writer, client):
    await _registries(client)
    page, hidden = await _form(writer)
    assert '<option value="acme"' in page and '<option value="gone"' not in page  # active contractors only
    assert 'name="directed_by"' in page
    body = {**FORM, **hidden, "contractor": "acme", "directed_by": "olga.owner", "rationale": "Obviously right."}
    answer = await writer.post("/ui/decisions", data=body)
    assert answer.status_code == 303, answer.text
    decision_id = answer.headers["location"].split("/")[-1].split("?")[0]
    stored = (await client.get(f"/v1/decisions/{decision_id}")).json()
    assert (stored["contractor"], stored["directed_by"]) == ("acme", "olga.owner")
    shown = (await writer.get(f"/ui/decisions/{decision_id}")).text
    assert 'data-field="contractor"><a href="/ui/decisions?contractor=acme">acme</a>' in shown
    assert 'data-field="directed_by"><a href="/ui/people/olga.owner">olga.owner</a>' in shown
    assert 'data-signal="certainty"' in shown and "«Obviously»" in shown
    russian = (await writer.get(f"/ui/decisions/{decision_id}", params={"lang": "ru"})).text
    assert "Подрядчик" in russian and "уверенность без доказательств" in russian

    _, fresh = await _form(writer)
    refused = await writer.post("/ui/decisions", data={**FORM, **fresh, "directed_by": "anna.petrova"})
    assert refused.status_code == 422 and 'id="directed_by-error"' in refused.text


async def test_the_correction_form_changes_and_clears_the_contractor(writer, client):
    await _registries(client)
    created = await factories.decision(client, contractor="acme")
    page, hidden = await _form(writer, f"/ui/decisions/{created['id']}/edit")
    assert '<option value="acme" selected>' in page
    values = {**FORM, **hidden, "edit_reason": "Brought in-house.", "contractor": ""}
    answer = await writer.post(f"/ui/decisions/{created['id']}/edit", data=values)
    assert answer.status_code == 303, answer.text
    assert (await client.get(f"/v1/decisions/{created['id']}")).json()["contractor"] is None


async def test_the_outcome_form_takes_a_cause(app_instance, client, client_for):
    await _registries(client)
    first = await factories.decision(client, contractor="acme")
    body = {"name": "boris-browser", "scope": "write", "person": "boris.ivanov"}
    key = (await client_for("admin").post("/v1/keys", json=body)).json()["key"]
    async with browser_for(app_instance) as boris:
        await sign_in(boris, key)
        page = await boris.get(f"/ui/decisions/{first['id']}")
        assert '<select id="cause" name="cause"' in page.text
        token, etag = csrf_of(page), hidden_fields(page.text)["etag"]
        refused = await boris.post(
            f"/ui/decisions/{first['id']}/outcome",
            data={"csrf_token": token, "etag": etag, "result": "success", "cause": "execution"},
        )
        assert refused.status_code == 422 and 'id="outcome-cause-error"' in refused.text
        done = await boris.post(
            f"/ui/decisions/{first['id']}/outcome",
            data={"csrf_token": token, "etag": etag, "result": "failure", "cause": "execution"},
        )
        assert done.status_code == 303, done.text
        assert (await client.get(f"/v1/decisions/{first['id']}")).json()["outcome"]["cause"] == "execution"
        shown = (await boris.get(f"/ui/decisions/{first['id']}")).text
        assert '<span data-field="cause">its execution</span>' in shown
