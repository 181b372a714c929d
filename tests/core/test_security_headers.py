import pytest

from tests import factories


@pytest.mark.parametrize("path", ["/v1/people", "/v1/decisions", "/v1/nowhere"])
async def test_api_responses_are_not_cached_sniffed_or_framed(client, path):
    response = await client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_error_and_created_responses_carry_the_headers_too(client, anon):
    unauthorised = await anon.get("/v1/people")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["Cache-Control"] == "no-store"
    await factories.basics(client)
    created = await client.post("/v1/decisions", json=factories.decision_body())
    assert created.status_code == 201
    assert created.headers["X-Content-Type-Options"] == "nosniff"
    assert created.headers["Cache-Control"] == "no-store"


async def test_docs_are_not_framed_but_may_load_their_assets(anon):
    response = await anon.get("/docs")
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in response.headers
