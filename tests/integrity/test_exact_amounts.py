"""The tamper-evident log holds amounts exactly and canonically (app/core/money.py: a JSON number when that
number spells the amount, else the exact decimal as a string), verifies, and sees an amount changed by 0.0001."""

from __future__ import annotations

import json

import pytest

from app.integrity.service import Sealer, decision_entity
from app.integrity.verify import verify_database
from tests import factories
from tests.integrity.helpers import rows, tamper

# (amount sent, currency, the amount in the logged canonical JSON)
LOGGED = [
    ("99999999999999.99", "EUR", '"99999999999999.99"'),  # no double is this amount: its exact digits, as a string
    ("98765432109876.54", "USD", '"98765432109876.54"'),  # a double would be …55
    ("12345678901234.56", "USD", "12345678901234.56"),  # 16 digits, and yet the shortest form of a double
    ("15000.50", "EUR", "15000.5"),  # a double's shortest form spells it: a number
    ("15000", "EUR", "15000"),
    ("0.01", "USD", "0.01"),
]


async def _create(client, amount: str, currency: str) -> str:  # type: ignore[no-untyped-def]
    body = json.dumps(factories.decision_body(title=amount, budget_amount="?", budget_currency=currency))
    response = await client.post(
        "/v1/decisions", content=body.replace('"?"', amount), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_amounts_are_logged_exactly_and_verify(client, db):
    await factories.basics(client)
    ids = {amount: await _create(client, amount, currency) for amount, currency, _ in LOGGED}
    await factories.edit(client, ids["15000"], budget_amount=99999999999999.5)
    await Sealer(db).seal()

    report = await verify_database(db)

    assert report.ok, report.problems
    for amount, _, logged in LOGGED:
        (content,) = (
            await rows(
                db,
                "SELECT content FROM integrity_entry WHERE entity = :entity AND kind = 'decision.created'",
                entity=decision_entity(ids[amount]),
            )
        )[0]
        assert f'"budget_amount":{logged},' in content


@pytest.mark.parametrize("change", ["budget_amount + 1", "budget_amount - 100"])
async def test_an_amount_changed_by_a_fraction_of_a_cent_is_detected(client, db, change):
    await factories.basics(client)
    decision_id = await _create(client, "99999999999999.99", "EUR")
    await Sealer(db).seal()
    stored = decision_id.replace("-", "") if db.dialect == "sqlite" else decision_id

    await tamper(db, f"UPDATE decision SET budget_amount = {change} WHERE id = :id", id=stored)

    report = await verify_database(db)
    assert (report.first_bad.code, report.first_bad.entity) == ("record_differs", decision_entity(decision_id))
