"""Every route under /v1/decisions/{id}: 404 for an unknown id, 422 for one that is not a UUID."""

import pytest

from tests import factories
from tests.decisions.helpers import assert_problem, error_at

UNKNOWN = "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"

ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"edit_reason": "Fix.", "title": "New title"}),
    ("GET", "/revisions", None),
    ("POST", "/reverse", factories.reverse_body()),
    ("POST", "/outcome", factories.outcome_body()),
]


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
async def test_unknown_decision_id_returns_404(client, method, suffix, body):
    await factories.basics(client)
    await factories.decision(client)
    response = await client.request(method, f"/v1/decisions/{UNKNOWN}{suffix}", json=body)
    problem = assert_problem(response, 404, "decision_not_found")
    assert UNKNOWN in problem["detail"]


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
@pytest.mark.parametrize("bad_id", ["42", "not-a-uuid", "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8", "%20"])
async def test_malformed_decision_id_returns_422(client, method, suffix, body, bad_id):
    response = await client.request(method, f"/v1/decisions/{bad_id}{suffix}", json=body)
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["path", "decision_id"])


async def test_unknown_route_under_decisions_is_a_problem_too(client):
    response = await client.get(f"/v1/decisions/{UNKNOWN}/nothing-here")
    assert_problem(response, 404, "not_found")


async def test_patch_on_the_batch_path_is_405_not_a_malformed_id(client):
    response = await client.patch("/v1/decisions/batch", json={"edit_reason": "x"})
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"
