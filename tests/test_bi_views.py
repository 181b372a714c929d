"""The read-only SQL views BI tools read directly agree with the API."""

import json
from decimal import Decimal

from sqlalchemy import text

from tests import factories


async def _rows(db, sql: str) -> list[dict]:
    async with db.engine.connect() as connection:
        return [dict(r._mapping) for r in await connection.execute(text(sql))]


async def test_bi_decision_view_shows_each_decision_with_its_class(client, db):
    await factories.basics(client)
    with_data = await factories.decision(client, title="With data")
    claim = await factories.decision(client, title="Claim", evidence=[])
    await client.post(f"/v1/decisions/{claim['id']}/reverse", json={"reason": "Wrong", "by": "anna.petrova"})
    rows = {str(r["id"]).replace("-", ""): r for r in await _rows(db, "SELECT * FROM bi_decision")}
    data_row = rows[with_data["id"].replace("-", "")]
    claim_row = rows[claim["id"].replace("-", "")]
    assert (data_row["basis_class"], data_row["data_claim_without_evidence"], data_row["reversed"]) == ("data", 0, 0)
    assert (claim_row["basis_class"], claim_row["data_claim_without_evidence"], claim_row["reversed"]) == (
        "emotion",
        1,
        1,
    )
    assert claim_row["owner"] == "anna.petrova"


async def test_bi_strategy_change_view_measures_intervals_and_unexplained_changes(client, db):
    await client.post("/v1/strategies", json={"key": "growth", "title": "Growth"})
    for effective_from, reason in (("2026-01-01", None), ("2026-01-11T12:00:00Z", " "), ("2026-02-01", "Why")):
        await client.post(
            "/v1/strategies/growth/versions",
            json={"summary": "s", "effective_from": effective_from, "change_reason": reason},
        )
    rows = await _rows(db, "SELECT * FROM bi_strategy_change ORDER BY number")
    assert [r["number"] for r in rows] == [1, 2, 3]
    assert [r["unexplained"] for r in rows] == [0, 1, 0]
    assert rows[0]["days_since_previous"] is None
    assert [round(float(r["days_since_previous"]), 4) for r in rows[1:]] == [10.5, 20.5]


async def test_bi_decision_kpi_and_kpi_revision_views(client, db):
    await factories.basics(client)
    await client.put("/v1/kpis/cpa", json={"name": "CPA", "unit": "EUR", "kind": "money", "target": 40})
    await client.put("/v1/kpis/cpa", json={"name": "CPA", "unit": "EUR", "kind": "money", "target": 35})
    await client.put("/v1/kpis/leads", json={"name": "Leads", "unit": "n", "kind": "activity"})
    decision = await factories.decision(client, kpis=["cpa", "leads"])
    kpis = await _rows(db, "SELECT kpi FROM bi_decision_kpi ORDER BY kpi")
    assert [r["kpi"] for r in kpis] == ["cpa", "leads"]
    assert decision["kpis"] == ["cpa", "leads"]
    revisions = await _rows(db, "SELECT kpi, revision, unexplained, kind FROM bi_kpi_revision ORDER BY kpi, revision")
    assert revisions == [
        {"kpi": "cpa", "revision": 1, "unexplained": 0, "kind": "money"},
        {"kpi": "cpa", "revision": 2, "unexplained": 1, "kind": "money"},
        {"kpi": "leads", "revision": 1, "unexplained": 0, "kind": "activity"},
    ]


async def test_bi_decision_view_gives_budgets_exactly(client, db):
    """PostgreSQL's `budget_amount` is the exact decimal; SQLite has no decimal type, so there it is the nearest
    double; `budget_amount_e4`, the integer ten-thousandths, is exact on both."""
    await factories.basics(client)
    ids = {}
    for amount, currency in (("99999999999999.99", "EUR"), ("0.1", "EUR"), ("1.234", "KWD"), ("15000", "JPY")):
        body = json.dumps(factories.decision_body(title=amount, budget_amount="?", budget_currency=currency))
        response = await client.post(
            "/v1/decisions", content=body.replace('"?"', amount), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text
        ids[amount] = response.json()["id"]

    rows = {r["title"]: r for r in await _rows(db, "SELECT title, budget_amount, budget_amount_e4 FROM bi_decision")}

    for amount, units in (
        ("99999999999999.99", 999999999999999900),
        ("0.1", 1000),
        ("1.234", 12340),
        ("15000", 150000000),
    ):
        row = rows[amount]
        assert row["budget_amount_e4"] == units
        if db.dialect == "postgresql":
            assert isinstance(row["budget_amount"], Decimal) and row["budget_amount"] == Decimal(amount)
            assert str(row["budget_amount"]) == amount  # no trailing zeros
        else:
            assert row["budget_amount"] == float(Decimal(amount))
