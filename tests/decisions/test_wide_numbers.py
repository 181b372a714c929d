"""Numbers beyond 2**53 (1e18) and far beyond 64-bit integers (1e30) in a decision's JSON fields come back as the
numbers sent, on both engines, wherever the stored documents are read: PostgreSQL's JSONB keeps 1e30 as the integer
1000…0 (31 digits), which read as an integer is neither the double the client sent nor a number orjson writes (a
500 from the revisions before)."""

from __future__ import annotations

from tests import factories
from tests.events.helpers import feed
from tests.exports.test_exports import _ndjson

HUGE = 1e30


def _evidence(value: float) -> list[dict[str, object]]:
    return [{"source": "ga4", "reference": "https://analytics.example.com/r/1", "metric": "reach", "value": value}]


async def test_numbers_beyond_64_bits_come_back_as_sent_in_revisions_events_and_exports(client):
    await factories.basics(client)
    await factories.kpi(client, "cpa")
    created = await factories.decision(
        client,
        evidence=_evidence(HUGE),
        kpis=["cpa"],
        expected_outcome={"description": "CPA drops", "kpi": "cpa", "target_value": -1e18},
    )
    corrected = await factories.edit(client, created["id"], evidence=_evidence(2e20))
    reviewed = await factories.outcome(client, created["id"], actual_value=HUGE)
    assert created["evidence"][0]["value"] == HUGE
    assert created["expected_outcome"]["target_value"] == -1e18
    assert reviewed["outcome"]["actual_value"] == HUGE

    response = await client.get(f"/v1/decisions/{created['id']}/revisions")

    assert response.status_code == 200, response.text
    revisions = response.json()["items"]
    assert [revision["decision"] for revision in revisions] == [created, corrected, reviewed]
    assert revisions[1]["changes"]["evidence"] == {"from": created["evidence"], "to": corrected["evidence"]}
    for revision in revisions:
        assert type(revision["decision"]["evidence"][0]["value"]) is float
        assert type(revision["decision"]["expected_outcome"]["target_value"]) is float
    events = [event for event in await feed(client) if event["type"].startswith("decision.")]
    assert [event["data"]["decision"] for event in events] == [created, corrected, reviewed]
    assert _ndjson(await client.get("/v1/exports/decisions")) == [reviewed]
    got = await client.get(f"/v1/decisions/{created['id']}")
    assert got.json() == reviewed | {"contradicts": []}
