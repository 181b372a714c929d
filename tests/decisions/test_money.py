"""Budgets are exact decimals end to end, below a documented maximum, in ISO 4217 currencies.

The bodies are written as JSON text: a Python float cannot even hold 99999999999999.99, so neither can a test
that sends one. Answers are read with every number's digits kept (``parse_float=Decimal``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.core.unit_of_work import Database
from tests import factories
from tests.decisions.helpers import assert_problem, error_at

AMOUNT = "__AMOUNT__"


def with_amount(body: dict[str, Any], amount: str) -> str:
    """``body`` as JSON text, its ``budget_amount`` the number spelled ``amount``, digit for digit."""
    return json.dumps(body).replace(f'"{AMOUNT}"', amount)


def exact(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return json.loads(response.content, parse_float=Decimal)


async def post(client: httpx.AsyncClient, path: str, content: str, **headers: str) -> httpx.Response:
    return await client.post(path, content=content, headers={"Content-Type": "application/json", **headers})


async def stored_units(db: Database, decision_id: str) -> Any:
    """The stored column as the database holds it (no SQLAlchemy type in between)."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, budget_amount FROM decision"))
        return {str(row[0]).replace("-", ""): row[1] for row in rows}[decision_id.replace("-", "")]


# (amount sent, currency, the amount answered, as stored in ten-thousandths)
ROUND_TRIPS = [
    ("99999999999999.99", "EUR", "99999999999999.99", 999999999999999900),  # the maximum with cents; a double: …98
    ("0.01", "EUR", "0.01", 100),
    ("15000.50", "EUR", "15000.5", 150005000),
    ("12345678901234.56", "USD", "12345678901234.56", 123456789012345600),
    ("1.5e3", "EUR", "1500", 15000000),
    ("99999999999999", "JPY", "99999999999999", 999999999999990000),  # no minor unit
    ("99999999999999.999", "KWD", "99999999999999.999", 999999999999999990),  # three decimals
    ("1.2345", "CLF", "1.2345", 12345),  # four
    ("0", "USD", "0", 0),
    pytest.param("1." + "0" * 5000, "EUR", "1", 10000, id="1-with-5000-zeros"),  # past int()'s 4300 digits
]


@pytest.mark.parametrize(("sent", "currency", "answered", "units"), ROUND_TRIPS)
async def test_budget_amount_round_trips_exactly(client, db, sent, currency, answered, units):
    await factories.basics(client)
    body = with_amount(factories.decision_body(budget_amount=AMOUNT, budget_currency=currency), sent)

    response = await post(client, "/v1/decisions", body, **{"Idempotency-Key": f"money-{currency}-{sent[:40]}"})
    created = exact(response)

    # The answer writes the amount as a JSON number with exactly its digits.
    assert f'"budget_amount":{answered},' in response.text
    assert created["budget_amount"] == Decimal(sent)
    assert await stored_units(db, created["id"]) == units
    got = await client.get(f"/v1/decisions/{created['id']}")
    assert exact(got) == created | {"contradicts": []}
    assert got.content == response.content[:-1] + b',"contradicts":[]}'
    listed = exact(await client.get("/v1/decisions"))
    assert listed["items"] == [created]
    revisions = exact(await client.get(f"/v1/decisions/{created['id']}/revisions"))
    assert [r["decision"] for r in revisions["items"]] == [created]
    replayed = await post(client, "/v1/decisions", body, **{"Idempotency-Key": f"money-{currency}-{sent[:40]}"})
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.content == response.content


async def test_batch_and_correction_keep_amounts_exact(client):
    await factories.basics(client)
    item = factories.decision_body(budget_amount=AMOUNT, budget_currency="EUR")
    body = f'{{"items": [{with_amount(item, "99999999999999.99")}, {with_amount(item, "0")}]}}'
    batch = exact(await post(client, "/v1/decisions/batch", body))
    assert [item["budget_amount"] for item in batch["items"]] == [Decimal("99999999999999.99"), 0]
    first = batch["items"][0]

    corrected = await client.patch(
        f"/v1/decisions/{first['id']}",
        content='{"edit_reason": "Finance approved less.", "budget_amount": 12345678901234.57}',
        headers={"Content-Type": "application/json"},
    )

    assert exact(corrected)["budget_amount"] == Decimal("12345678901234.57")
    revisions = exact(await client.get(f"/v1/decisions/{first['id']}/revisions"))["items"]
    assert revisions[1]["changes"] == {
        "budget_amount": {"from": Decimal("99999999999999.99"), "to": Decimal("12345678901234.57")}
    }
    assert [r["decision"]["budget_amount"] for r in revisions] == [
        Decimal("99999999999999.99"),
        Decimal("12345678901234.57"),
    ]


# --- refused ------------------------------------------------------------------------------------


async def _refused_at(client: httpx.AsyncClient, content: str, loc: list[str | int], path: str = "/v1/decisions"):
    response = await post(client, path, content)
    problem = assert_problem(response, 422, "validation_failed")
    error = error_at(problem, loc)
    assert (await client.get("/v1/decisions")).json()["items"] == []
    return error


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("100000000000000", "EUR"),  # 10^14: one cent above the maximum
        ("100000000000000.00", "EUR"),
        ("99999999999999.999", "EUR"),  # a third decimal where the currency has two
        ("0.001", "USD"),
        ("1.5", "JPY"),  # JPY has no minor unit
        ("0.0001", "KWD"),  # KWD has three
        ("1.23456", "CLF"),  # CLF has four
        pytest.param("0." + "0" * 5000 + "1", "EUR", id="5001-places"),
        ("1e400", "EUR"),  # a double would read infinity
        ("1E+400", "EUR"),
        ("1e-400", "EUR"),  # a double would read 0
        ("-1e400", "EUR"),
        ("-0.01", "EUR"),
        ('"15000"', "EUR"),  # a string, as before
        ("true", "EUR"),
    ],
)
async def test_budget_amount_outside_the_rules_returns_422_naming_it(client, amount, currency):
    await factories.basics(client)
    body = with_amount(factories.decision_body(budget_amount=AMOUNT, budget_currency=currency), amount)
    await _refused_at(client, body, ["body", "budget_amount"])


@pytest.mark.parametrize("currency", ["XXY", "ABC", "DEM", "XXX", "XTS"])
async def test_currency_not_in_iso_4217_returns_422_naming_it(client, currency):
    """Unknown codes, a currency withdrawn long ago, and the two ISO codes that are not money."""
    await factories.basics(client)
    body = json.dumps(factories.decision_body(budget_amount=100, budget_currency=currency))
    error = await _refused_at(client, body, ["body", "budget_currency"])
    assert currency in error["msg"]


async def test_batch_item_with_unknown_currency_or_too_many_decimals_is_named(client):
    await factories.basics(client)
    items = [
        factories.decision_body(budget_amount=1, budget_currency="EUR"),
        factories.decision_body(budget_amount=1, budget_currency="XXY"),
        factories.decision_body(budget_amount=AMOUNT, budget_currency="JPY"),
    ]
    body = with_amount({"items": items}, "10.5")
    response = await post(client, "/v1/decisions/batch", body)
    problem = assert_problem(response, 422, "validation_failed")
    error_at(problem, ["body", "items", 1, "budget_currency"])
    await _refused_at(
        client,
        with_amount({"items": [items[0], items[2]]}, "10.5"),
        ["body", "items", 1, "budget_amount"],
        "/v1/decisions/batch",
    )


async def test_correction_is_checked_against_the_currency_it_ends_with(client):
    await factories.basics(client)
    yen = await factories.decision(client, budget_amount=1500, budget_currency="JPY")
    euro = await factories.decision(client, budget_amount=15.5, budget_currency="EUR")
    for decision, fields, loc in (
        (yen, {"budget_amount": 1500.5}, "budget_amount"),  # yen have no minor unit
        (euro, {"budget_currency": "JPY"}, "budget_currency"),  # 15.5 would become yen
        (euro, {"budget_currency": "XXY"}, "budget_currency"),
        (euro, {"budget_amount": 100000000000000}, "budget_amount"),
    ):
        response = await client.patch(f"/v1/decisions/{decision['id']}", json={"edit_reason": "x", **fields})
        error_at(assert_problem(response, 422, "validation_failed"), ["body", loc])
        assert (await client.get(f"/v1/decisions/{decision['id']}")).json() == decision | {"contradicts": []}
    assert (await factories.edit(client, euro["id"], budget_amount=15, budget_currency="JPY"))[
        "budget_currency"
    ] == "JPY"
