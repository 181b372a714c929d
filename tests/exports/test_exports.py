import csv
import io
import json
from decimal import Decimal

from tests import factories


def _ndjson(response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines()]


async def test_ndjson_export_streams_every_decision_in_updated_order(client):
    await factories.basics(client)
    created = [await factories.decision(client, title=f"D{i}") for i in range(3)]
    response = await client.get("/v1/exports/decisions")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert _ndjson(response) == created


async def test_csv_export_has_the_json_columns_and_neutralises_formulas(client):
    await factories.basics(client)
    decision = await factories.decision(
        client,
        title='=HYPERLINK("http://evil")',
        rationale="+1 because",
        tags=["-x", "@y"],
        budget_amount=12.5,
        budget_currency="EUR",
    )
    response = await client.get("/v1/exports/decisions", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "\r\n" in response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == list(decision)
    row = rows[0]
    assert row["id"] == decision["id"]
    assert row["title"] == '\'=HYPERLINK("http://evil")'
    assert row["rationale"] == "'+1 because"
    assert row["budget_amount"] == "12.5"
    assert json.loads(row["tags"]) == ["-x", "@y"]
    assert row["decided_at"] == decision["decided_at"]
    assert row["description"] == ""


async def test_csv_is_chosen_by_accept_header_and_bom_is_optional(client):
    await factories.basics(client)
    await factories.decision(client)
    plain = await client.get("/v1/exports/decisions", headers={"Accept": "text/csv"})
    assert plain.headers["Content-Type"].startswith("text/csv")
    assert plain.content.startswith(b"id,")
    with_bom = await client.get("/v1/exports/decisions", params={"format": "csv", "bom": "true"})
    assert with_bom.content.startswith("\ufeff".encode() + b"id,")


async def test_incremental_pull_returns_exactly_the_changed_decisions(client):
    await factories.basics(client)
    first, second, third = [await factories.decision(client, title=f"D{i}") for i in range(3)]
    pulled = _ndjson(await client.get("/v1/exports/decisions"))
    watermark = max(d["updated_at"] for d in pulled)
    assert _ndjson(await client.get("/v1/exports/decisions", params={"updated_since": watermark})) == []
    patched = await client.patch(f"/v1/decisions/{second['id']}", json={"title": "D1 corrected", "edit_reason": "typo"})
    assert patched.status_code == 200
    changed = _ndjson(await client.get("/v1/exports/decisions", params={"updated_since": watermark}))
    assert changed == [patched.json()]
    assert {first["id"], third["id"]}.isdisjoint(d["id"] for d in changed)


async def test_export_needs_read_scope_and_valid_parameters(client, client_for, anon):
    assert (await anon.get("/v1/exports/decisions")).status_code == 401
    assert (await client_for("analytics").get("/v1/exports/decisions")).status_code == 403
    bad = await client.get("/v1/exports/decisions", params={"format": "xml"})
    assert bad.status_code == 422
    naive = await client.get("/v1/exports/decisions", params={"updated_since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["loc"] == ["query", "updated_since"]


async def test_export_of_many_decisions_crosses_cursor_chunks(client):
    await factories.basics(client)
    body = factories.decision_body(title="t", rationale="r")
    for _ in range(3):
        assert (await client.post("/v1/decisions/batch", json={"items": [body] * 400})).status_code == 201
    lines = _ndjson(await client.get("/v1/exports/decisions"))
    assert len(lines) == 1200
    assert len({d["id"] for d in lines}) == 1200
    keys = [(d["updated_at"], d["id"]) for d in lines]
    assert keys == sorted(keys)


async def test_exports_write_amounts_exactly(client):
    """NDJSON numbers and CSV cells carry every digit: 99999999999999.99, not the …98 of a double."""
    await factories.basics(client)
    for amount, currency in (("99999999999999.99", "EUR"), ("0.01", "USD"), ("1500", "JPY")):
        body = json.dumps(factories.decision_body(budget_amount="?", budget_currency=currency))
        response = await client.post(
            "/v1/decisions", content=body.replace('"?"', amount), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text

    ndjson = await client.get("/v1/exports/decisions")
    as_csv = await client.get("/v1/exports/decisions", params={"format": "csv"})

    lines = [json.loads(line, parse_float=Decimal) for line in ndjson.text.splitlines()]
    assert [line["budget_amount"] for line in lines] == [Decimal("99999999999999.99"), Decimal("0.01"), 1500]
    assert '"budget_amount":99999999999999.99,' in ndjson.text
    cells = [row["budget_amount"] for row in csv.DictReader(io.StringIO(as_csv.text))]
    assert cells == ["99999999999999.99", "0.01", "1500"]
