"""The basis rules: every decision shows the class and reason the contract derives from basis and evidence."""

import pytest

from tests import factories
from tests.decisions.helpers import assert_problem, error_at

EVIDENCE = [{"source": "ga4", "reference": "https://analytics.example.com/r/1"}]

RULES = [
    # basis, evidence cited, basis_class, classification_reason
    ("data", True, "data", "evidence_cited"),
    ("data", False, "emotion", "data_claim_without_evidence"),
    ("experiment", True, "data", "evidence_cited"),
    ("experiment", False, "emotion", "data_claim_without_evidence"),
    ("research", True, "data", "evidence_cited"),
    ("research", False, "emotion", "data_claim_without_evidence"),
    ("intuition", True, "emotion", "declared_intuition"),
    ("intuition", False, "emotion", "declared_intuition"),
    ("emotion", True, "emotion", "declared_emotion"),
    ("emotion", False, "emotion", "declared_emotion"),
    ("authority", True, "emotion", "declared_authority"),
    ("authority", False, "emotion", "declared_authority"),
]


@pytest.mark.parametrize(("basis", "cited", "basis_class", "reason"), RULES)
async def test_create_decision_is_classified_by_the_basis_rules(client, basis, cited, basis_class, reason):
    await factories.basics(client)
    created = await factories.decision(client, basis=basis, evidence=EVIDENCE if cited else [])
    assert (created["basis"], created["basis_class"], created["classification_reason"]) == (basis, basis_class, reason)
    got = (await client.get(f"/v1/decisions/{created['id']}")).json()
    assert (got["basis_class"], got["classification_reason"]) == (basis_class, reason)
    listed = (await client.get("/v1/decisions", params={"basis_class": basis_class})).json()
    assert [d["id"] for d in listed["items"]] == [created["id"]]


async def test_create_decision_without_evidence_field_counts_as_uncited(client):
    await factories.basics(client)
    body = factories.decision_body(basis="experiment")
    del body["evidence"]
    response = await client.post("/v1/decisions", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["evidence"] == []
    assert (created["basis_class"], created["classification_reason"]) == ("emotion", "data_claim_without_evidence")


async def test_create_decision_several_evidence_items_count_as_cited(client):
    await factories.basics(client)
    evidence = [{"source": "ga4", "reference": "r1"}, {"source": "crm", "reference": "r2"}]
    created = await factories.decision(client, basis="research", evidence=evidence)
    assert (created["basis_class"], created["classification_reason"]) == ("data", "evidence_cited")


async def test_create_decision_cannot_choose_its_own_class(client):
    await factories.basics(client)
    body = factories.decision_body(basis="emotion", basis_class="data", classification_reason="evidence_cited")
    problem = assert_problem(await client.post("/v1/decisions", json=body), 422, "validation_failed")
    assert error_at(problem, ["body", "basis_class"])["type"] == "extra_forbidden"
    assert error_at(problem, ["body", "classification_reason"])["type"] == "extra_forbidden"


@pytest.mark.parametrize(("basis", "cited", "basis_class", "reason"), RULES)
async def test_update_decision_reclassifies_by_the_basis_rules(client, basis, cited, basis_class, reason):
    await factories.basics(client)
    # Start from the opposite of the target state so the edit has something to change.
    created = await factories.decision(client, basis="authority" if basis_class == "data" else "data")
    edited = await factories.edit(client, created["id"], basis=basis, evidence=EVIDENCE if cited else [])
    assert (edited["basis"], edited["basis_class"], edited["classification_reason"]) == (basis, basis_class, reason)
    got = (await client.get(f"/v1/decisions/{created['id']}")).json()
    assert (got["basis_class"], got["classification_reason"]) == (basis_class, reason)
