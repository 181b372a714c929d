"""Delivery to a real HTTP receiver on loopback: Standard Webhooks signatures as the reference library verifies
them, retries with one webhook-id, the delivery log, test sends, disabling, guards at delivery time, Slack."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.core.types import new_id, utcnow
from app.core.unit_of_work import transaction
from app.webhooks import repository
from app.webhooks.repository import message
from tests import factories
from tests.events.helpers import feed
from tests.webhooks.conftest import Receiver


async def _subscribe(admin: httpx.AsyncClient, receiver: Receiver, **body: Any) -> dict[str, Any]:
    response = await admin.post("/v1/webhooks", json={"url": receiver.url, "events": ["*"], **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _log(admin: httpx.AsyncClient, webhook_id: str, count: int, within: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within
    while True:
        items = (await admin.get(f"/v1/webhooks/{webhook_id}/deliveries")).json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)


async def test_an_event_arrives_signed_as_standard_webhooks_verifies(dispatching_app, receiver, client) -> None:
    async with dispatching_app() as admin:
        hook = await _subscribe(admin, receiver, events=["person.created"])
        person = await factories.person(client, "anna.petrova")
        await factories.source(client, "ga4")  # not subscribed

        [request] = await receiver.wait_for(1)
        await asyncio.sleep(0.3)
        assert len(receiver.requests) == 1

    [event] = await feed(client, type="person.created")
    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload == {
        "type": "person.created",
        "timestamp": event["occurred_at"],
        "data": {"id": event["id"], "subject": "person/anna.petrova", "person": person},
    }
    assert request.headers["webhook-id"] == event["id"]
    assert request.path == "/hook"
    assert request.headers["content-type"] == "application/json"


async def test_a_receiver_that_fails_twice_gets_the_event_with_one_webhook_id(
    dispatching_app, receiver, client
) -> None:
    receiver.answers = [500, 503]
    async with dispatching_app() as admin:
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        requests = await receiver.wait_for(3)
        log = await _log(admin, hook["id"], 3)

    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for request in requests:  # each attempt signed afresh, each verifying
        Webhook(hook["secret"]).verify(request.body, request.headers)
    assert [(a["attempt"], a["status_code"], a["error"]) for a in log] == [
        (1, 500, "HTTP 500"),
        (2, 503, "HTTP 503"),
        (3, 200, None),
    ]
    assert [a["next_attempt_at"] is not None for a in log] == [True, True, False]
    assert {a["event_id"] for a in log} == {requests[0].headers["webhook-id"]}
    assert all(a["event_type"] == "person.created" and a["duration_ms"] >= 0 for a in log)


async def test_retries_run_out_then_the_delivery_is_failed(dispatching_app, receiver, client) -> None:
    receiver.answers = [500] * 10
    async with dispatching_app(webhook_retry_schedule=[0.1, 0.1]) as admin:
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        await receiver.wait_for(3)
        await asyncio.sleep(0.5)
        log = await _log(admin, hook["id"], 3)

    assert len(receiver.requests) == 3  # the first attempt and the two retries of the schedule
    assert [(a["attempt"], a["next_attempt_at"] is None) for a in log] == [(1, False), (2, False), (3, True)]


async def test_a_slow_receiver_times_out_and_is_retried(dispatching_app, receiver, client) -> None:
    receiver.delay = 1.0
    async with dispatching_app(webhook_timeout_seconds=0.3, webhook_retry_schedule=[0.1]) as admin:
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        log = await _log(admin, hook["id"], 2)

    assert [(a["attempt"], a["status_code"], a["error"]) for a in log] == [
        (1, None, "no answer within 0.3 s"),
        (2, None, "no answer within 0.3 s"),
    ]


async def test_test_send_delivers_a_webhook_test_event(dispatching_app, receiver) -> None:
    async with dispatching_app(webhook_poll_interval_seconds=30) as admin:  # woken by the request, not the poll
        hook = await _subscribe(admin, receiver, events=["kpi.revised"])
        response = await admin.post(f"/v1/webhooks/{hook['id']}/test")
        assert response.status_code == 202, response.text
        [request] = await receiver.wait_for(1, within=5)

    payload = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "webhook.test"
    assert payload["data"]["id"] == response.json()["event_id"] == request.headers["webhook-id"]


async def test_a_subscription_failing_for_days_is_disabled_with_its_reason(dispatching_app, receiver, client) -> None:
    receiver.answers = [500] * 50
    # A "day" of a thousandth of a second's worth: the second failing attempt is past the limit.
    async with dispatching_app(webhook_disable_after_days=0.2 / 86400, webhook_retry_schedule=[0.3] * 5) as admin:
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        await receiver.wait_for(2)
        deadline = time.monotonic() + 10
        while (read := (await admin.get(f"/v1/webhooks/{hook['id']}")).json())["enabled"]:
            assert time.monotonic() < deadline, read
            await asyncio.sleep(0.05)
        sent = len(receiver.requests)
        await asyncio.sleep(1.0)

    assert len(receiver.requests) == sent  # nothing more is sent to a disabled subscription
    assert read["failing_since"] is not None
    assert "every delivery attempt failed" in read["disabled_reason"] and "HTTP 500" in read["disabled_reason"]


async def test_a_target_private_at_delivery_time_is_refused(dispatching_app, receiver, client) -> None:
    """Saved while private targets were allowed (as a name that resolved to a public address and now resolves to
    loopback would be): the dispatcher checks the address again when it delivers, and sends nothing."""
    async with dispatching_app() as admin:
        hook = await _subscribe(admin, receiver)
    async with dispatching_app(webhook_allow_private_targets=False) as admin:
        await factories.person(client, "anna.petrova")
        log = await _log(admin, hook["id"], 1)
        await asyncio.sleep(0.3)

    assert receiver.requests == []
    assert log[0]["status_code"] is None
    assert log[0]["error"].startswith("refused: the host '127.0.0.1' resolves to 127.0.0.1, loopback")


async def test_slack_format_posts_a_readable_message(dispatching_app, receiver, client) -> None:
    async with dispatching_app() as admin:
        await _subscribe(admin, receiver, events=["strategy.version_added"], format="slack")
        await factories.strategy(client, "growth-2026")
        await factories.version(client, effective_from="2026-01-01T00:00:00Z")
        await factories.version(client, effective_from="2026-01-11T00:00:00Z", summary="Cut display <now>")
        requests = await receiver.wait_for(2)

    # Messages are delivered concurrently: they may arrive in either order.
    [second] = [r for r in requests if "version 2" in json.loads(r.body)["text"]]
    message = json.loads(second.body)
    assert message["text"] == (
        "*strategy.version_added*: Strategy growth-2026 version 2: Cut display &lt;now&gt; "
        "(no reason given; only 10.0 days after the previous version)"
    )
    assert message["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": message["text"]}}
    assert "webhook-signature" in second.headers


async def test_slack_format_names_the_decisions_that_contradict(dispatching_app, receiver, client) -> None:
    async with dispatching_app() as admin:
        await _subscribe(admin, receiver, events=["decision.contradiction"], format="slack")
        await factories.basics(client)
        await factories.kpi(client, "cpa", direction="decrease")
        for title, direction in (("Cut bids", "decrease"), ("Raise bids <now>", "increase")):
            expected = {"description": "Move CPA", "kpi": "cpa", "direction": direction}
            await factories.decision(client, title=title, expected_outcome=expected)
        [request] = await receiver.wait_for(1)

    assert json.loads(request.body)["text"] == (
        "*decision.contradiction*: “Raise bids &lt;now&gt;” (owner anna.petrova) pushes cpa to increase, "
        "against 1 open decision pushing it the other way"
    )


async def test_a_number_beyond_64_bits_in_an_event_is_delivered_as_sent(dispatching_app, receiver, client) -> None:
    # PostgreSQL's JSONB gives 1e30 back as a 31-digit integer, which orjson does not write: every round of
    # deliveries that claimed its message failed, and it was never delivered.
    async with dispatching_app() as admin:
        await _subscribe(admin, receiver, events=["decision.recorded", "person.created"])
        await factories.basics(client)
        evidence = [{"source": "ga4", "reference": "https://analytics.example.com/r/1", "value": 1e30}]
        decision = await factories.decision(client, evidence=evidence)
        await factories.person(client, "vera.sokolova")
        requests = await receiver.wait_for(4)

    [recorded] = [json.loads(r.body) for r in requests if json.loads(r.body)["type"] == "decision.recorded"]
    assert recorded["data"]["decision"] == decision
    assert recorded["data"]["decision"]["evidence"][0]["value"] == 1e30


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line = f"{name}{{{wanted}}} " if labels else f"{name} "
    return sum(float(row.split()[-1]) for row in text.splitlines() if row.startswith(line))


async def test_metrics_count_attempts_by_outcome_and_show_the_backlog(dispatching_app, receiver, client) -> None:
    receiver.answers = [500]
    async with dispatching_app() as admin:
        before = (await admin.get("/metrics")).text
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        await _log(admin, hook["id"], 2)
        await asyncio.sleep(0.3)  # a round after the delivery
        after = (await admin.get("/metrics")).text

    for outcome, more in (("retrying", 1), ("delivered", 1), ("failed", 0)):
        name = "decision_log_webhook_attempts_total"
        assert _sample(after, name, outcome=outcome) - _sample(before, name, outcome=outcome) == more, outcome
    assert _sample(after, "decision_log_webhook_messages_pending") == 0
    assert _sample(after, "decision_log_webhook_oldest_pending_seconds") == 0


async def test_metrics_show_messages_waiting_for_a_retry(dispatching_app, receiver, client) -> None:
    receiver.answers = [500]
    async with dispatching_app(webhook_retry_schedule=[60]) as admin:
        hook = await _subscribe(admin, receiver)
        await factories.person(client, "anna.petrova")
        await _log(admin, hook["id"], 1)
        await asyncio.sleep(0.3)  # a round after the attempt
        text = (await admin.get("/metrics")).text

    assert _sample(text, "decision_log_webhook_messages_pending") == 1
    assert _sample(text, "decision_log_webhook_oldest_pending_seconds") > 0


async def test_a_message_that_cannot_be_sent_fails_alone_and_the_batch_goes_on(
    dispatching_app, receiver, client, db
) -> None:
    """One claimed message whose body cannot be made (a Slack message needs the event's type, which this payload
    lacks) is recorded as failed with the reason; the other messages of its batch are delivered and recorded."""
    async with dispatching_app(webhook_dispatch="separate") as admin:  # loopback allowed, nothing dispatched yet
        hook = await _subscribe(admin, receiver, events=["person.created"], format="slack")
    await factories.person(client, "anna.petrova")
    await factories.person(client, "vera.sokolova")
    [event, *_] = await feed(client, type="person.created")
    broken = new_id()
    async with transaction(db, writes=True) as session:
        await repository.insert_messages(
            session,
            [
                {
                    "id": broken,
                    "webhook_id": uuid.UUID(hook["id"]),
                    "event_id": new_id(),
                    "event_type": "person.created",
                    "payload": {"data": {"id": event["id"]}},  # no type, no timestamp
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": utcnow() - timedelta(seconds=1),
                    "created_at": utcnow(),
                }
            ],
        )
    # The dispatcher starts with all three due: they are claimed in one batch.
    async with dispatching_app() as admin:
        requests = await receiver.wait_for(2)
        log = await _log(admin, hook["id"], 3)
        hook_now = (await admin.get(f"/v1/webhooks/{hook['id']}")).json()

    texts = sorted(json.loads(r.body)["text"] for r in requests)
    assert [text.split(": ")[1] for text in texts] == ["Person anna.petrova", "Person vera.sokolova"]
    assert len(log) == 3
    [failed] = [a for a in log if a["status_code"] is None]
    assert failed["error"] == "not sent: KeyError: 'type'"
    assert failed["next_attempt_at"] is None  # not retried: sending again would not help
    assert sorted(a["status_code"] for a in log if a is not failed) == [200, 200]
    async with transaction(db, writes=False) as session:
        states = dict((await session.execute(select(message.c.id, message.c.state))).all())
    assert states.pop(broken) == "failed"
    assert sorted(states.values()) == ["delivered", "delivered"]
    assert hook_now["enabled"] is True
