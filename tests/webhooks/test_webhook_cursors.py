"""Forged cursors of the webhook lists are 422 naming `cursor` (tests/core/test_cursors.py covers the others)."""

from __future__ import annotations

import base64
import json

from tests import factories
from tests.core.test_cursors import FORGED
from tests.decisions.helpers import assert_problem, error_at


def _encode(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


async def test_forged_cursors_of_the_webhook_lists_return_422(dispatching_app, receiver, client) -> None:
    receiver.answers = [500]
    async with dispatching_app(webhook_retry_schedule=[0.1]) as admin:
        hook = (await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"]})).json()
        await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["kpi.revised"]})
        await factories.person(client, "anna.petrova")
        await receiver.wait_for(2)
        for url in ("/v1/webhooks", f"/v1/webhooks/{hook['id']}/deliveries"):
            first = (await admin.get(url, params={"limit": 1})).json()
            assert first["next_cursor"] is not None, url
            second = await admin.get(url, params={"limit": 1, "cursor": first["next_cursor"]})
            assert second.status_code == 200 and second.json()["items"], second.text
            forged = [["x"], [1, 2, 3], {"values": 1}, *([bad] for bad in FORGED["uuid"])]
            forged += [[bad, "01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b"] for bad in FORGED["timestamp"]]
            for values in forged:
                response = await admin.get(url, params={"limit": 1, "cursor": _encode(values)})
                problem = assert_problem(response, 422, "validation_failed")
                assert error_at(problem, ["query", "cursor"])["msg"].startswith("cursor is not valid"), values
