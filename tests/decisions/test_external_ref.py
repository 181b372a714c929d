"""An `external_ref` is kept in canonical form (surrounding whitespace removed, Unicode NFC), so ids and systems that
differ only by those are the same reference: one decision, a second one → 409 naming it, on both engines."""

from __future__ import annotations

import pytest

from tests import factories
from tests.decisions.helpers import assert_problem, error_at

COMPOSED = "Caf\u00e9-1"  # "Café-1", é as one code point (NFC)
DECOMPOSED = "Cafe\u0301-1"  # e + COMBINING ACUTE ACCENT (NFD)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"system": "crm", "id": COMPOSED}, {"system": "crm", "id": DECOMPOSED}),
        ({"system": "crm", "id": DECOMPOSED}, {"system": "crm", "id": COMPOSED}),
        ({"system": "crm", "id": "DEAL-1"}, {"system": " crm\t", "id": "  DEAL-1 "}),
        ({"system": "Syst\u00e8me", "id": "1"}, {"system": "Syste\u0300me ", "id": "1"}),
    ],
)
async def test_external_refs_differing_only_by_normalisation_or_spaces_are_the_same(client, first, second):
    await factories.basics(client)
    created = await factories.decision(client, external_ref=first)

    response = await client.post("/v1/decisions", json=factories.decision_body(external_ref=second))

    problem = assert_problem(response, 409, "duplicate_external_ref")
    assert problem["existing_id"] == created["id"]
    assert (await client.get("/v1/decisions")).json()["items"] == [created]


async def test_external_ref_is_stored_and_answered_in_canonical_form(client):
    await factories.basics(client)

    created = await factories.decision(client, external_ref={"system": " crm ", "id": f" {DECOMPOSED}\n"})

    assert created["external_ref"] == {"system": "crm", "id": COMPOSED}
    assert (await client.get(f"/v1/decisions/{created['id']}")).json()["external_ref"] == created["external_ref"]


async def test_a_batch_repeating_an_external_ref_in_another_form_is_refused(client):
    await factories.basics(client)
    items = [
        factories.decision_body(external_ref={"system": "crm", "id": COMPOSED}),
        factories.decision_body(external_ref={"system": "crm ", "id": DECOMPOSED}),
    ]

    response = await client.post("/v1/decisions/batch", json={"items": items})

    error_at(assert_problem(response, 422, "validation_failed"), ["body", "items", 1, "external_ref"])


@pytest.mark.parametrize("ref", [{"system": "   ", "id": "1"}, {"system": "crm", "id": " \u3000 "}])
async def test_external_ref_blank_once_stripped_returns_422(client, ref):
    await factories.basics(client)

    response = await client.post("/v1/decisions", json=factories.decision_body(external_ref=ref))

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["loc"][:2] for e in problem["errors"]] == [["body", "external_ref"]]
