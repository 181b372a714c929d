"""Analytics as CSV: `format=csv` or `Accept: text/csv`, RFC 4180 with a header row holding the JSON row keys, the
same figures, `bom=true` for Excel and formula-looking text neutralised with a leading `'`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.analytics.dataset import R, get_json, parse_csv

BASIS_HEADER = "period_start,group,total,data,emotion,emotion_unsupported,data_share,emotion_share\r\n"
AHEAD = {"from": "2026-01-01", "to": "2100-01-01"}

ENDPOINTS: list[tuple[str, dict[str, Any]]] = [
    ("/v1/analytics/basis", {**R, "bucket": "month"}),
    ("/v1/analytics/basis", {**R, "bucket": "quarter", "group_by": "team"}),
    ("/v1/analytics/basis", {**R, "bucket": "none", "weight": "budget", "currency": "USD"}),
    ("/v1/analytics/strategy-changes", {**R, "bucket": "month"}),
    ("/v1/analytics/kpis", AHEAD),
    ("/v1/analytics/accountability", R),
    ("/v1/analytics/outcomes", R),
    ("/v1/analytics/summary", R),
]


async def test_basis_csv_is_exact(client, dataset):
    response = await client.get("/v1/analytics/basis", params={**R, "bucket": "month", "format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="basis.csv"'
    assert response.text == (
        BASIS_HEADER
        + "2026-01-01,,2,1,1,0,0.5,0.5\r\n"
        + "2026-02-01,,1,0,1,1,0.0,1.0\r\n"
        + "2026-03-01,,1,1,0,0,1.0,0.0\r\n"
        + "2026-04-01,,2,1,1,0,0.5,0.5\r\n"
        + "2026-05-01,,2,1,1,0,0.5,0.5\r\n"
        + "2026-06-01,,1,0,1,1,0.0,1.0\r\n"
        + "2026-07-01,,0,0,0,0,,\r\n"  # empty bucket: null shares are empty cells
        + "2026-08-01,,1,1,0,0,1.0,0.0\r\n"
        + "2026-09-01,,1,0,1,0,0.0,1.0\r\n"
    )


async def test_basis_csv_by_accept_header_equals_format_csv(client, dataset):
    by_header = await client.get("/v1/analytics/basis", params={**R, "bucket": "month"}, headers={"Accept": "text/csv"})
    by_param = await client.get("/v1/analytics/basis", params={**R, "bucket": "month", "format": "csv"})

    assert by_header.status_code == 200
    assert by_header.headers["content-type"] == "text/csv; charset=utf-8"
    assert by_header.content == by_param.content


async def test_format_json_wins_over_accept_csv(client, dataset):
    response = await client.get(
        "/v1/analytics/basis", params={**R, "bucket": "none", "format": "json"}, headers={"Accept": "text/csv"}
    )

    assert response.headers["content-type"] == "application/json"
    assert response.json()["rows"][0]["total"] == 11


async def test_basis_csv_with_bom_starts_with_utf8_bom(client, dataset):
    response = await client.get("/v1/analytics/basis", params={**R, "bucket": "none", "format": "csv", "bom": "true"})

    assert response.content.startswith(b"\xef\xbb\xbf" + BASIS_HEADER.encode())
    assert response.content.decode("utf-8-sig") == BASIS_HEADER + ",,11,5,6,2,0.4545,0.5455\r\n"


async def test_basis_csv_without_bom_has_none(client, dataset):
    response = await client.get("/v1/analytics/basis", params={**R, "bucket": "none", "format": "csv"})

    assert response.content.startswith(BASIS_HEADER.encode())


async def test_basis_csv_neutralises_a_group_value_that_looks_like_a_formula(client, dataset):
    response = await client.get(
        "/v1/analytics/basis", params={**R, "bucket": "year", "group_by": "team", "format": "csv"}
    )

    assert response.text == (
        BASIS_HEADER
        + "2026-01-01,'=ops,2,1,1,0,0.5,0.5\r\n"  # vera's team "=ops"
        + "2026-01-01,brand,4,1,3,2,0.25,0.75\r\n"
        + "2026-01-01,growth,5,3,2,0,0.6,0.4\r\n"
    )


async def test_basis_csv_budget_figures_are_plain_numbers(client, dataset):
    response = await client.get(
        "/v1/analytics/basis",
        params={**R, "bucket": "none", "group_by": "owner", "weight": "budget", "currency": "USD", "format": "csv"},
    )

    assert response.text == (
        BASIS_HEADER + ",anna.petrova,1500,1500,0,0,1.0,0.0\r\n" + ",boris.ivanov,2000.2,0,2000.2,2000.2,0.0,1.0\r\n"
    )


async def test_kpi_csv_neutralises_names_starting_with_equals_or_minus(client, dataset):
    response = await client.get("/v1/analytics/kpis", params={**AHEAD, "format": "csv"})

    assert response.headers["content-disposition"] == 'attachment; filename="kpis.csv"'
    assert response.text == (
        "kpi,name,kind,unit,target,direction,owner,has_owner,changes,unexplained_changes,decisions\r\n"
        "cpa,Cost per acquisition,money,EUR,38.0,decrease,anna.petrova,true,2,1,3\r\n"
        "leads,'-Leads per week,activity,leads,50.0,increase,,false,1,1,2\r\n"
        "revenue,'=Revenue,money,EUR,100000.0,increase,boris.ivanov,true,0,0,3\r\n"
    )


async def test_strategy_changes_csv_holds_the_rows(client, dataset):
    response = await client.get("/v1/analytics/strategy-changes", params={**R, "bucket": "month", "format": "csv"})

    assert response.text == (
        "strategy,title,changes,unexplained_changes,mean_days_between_changes,median_days_between_changes,"
        "min_days_between_changes,current_version,current_version_age_days,changes_per_month,unstable\r\n"
        "brand-refresh,Brand refresh,4,1,49.975,35.0,29.9,5,13.6833,0.446,true\r\n"
        "growth-2026,Growth 2026,3,2,63.5,70.0,30.0,4,143.0833,0.3345,false\r\n"
    )


async def test_outcomes_csv_writes_null_rate_as_empty_cell(client, dataset):
    response = await client.get("/v1/analytics/outcomes", params={**R, "owner": "vera.orlova", "format": "csv"})

    assert response.text == (
        "basis_class,decisions,reviewed,success,partial,failure,inconclusive,success_rate,"
        "target_met,target_missed,success_with_target_missed\r\n"
        "data,1,1,1,0,0,0,1.0,0,0,0\r\n"
        "emotion,1,1,0,0,0,1,,0,0,0\r\n"
    )


def as_cell(value: Any) -> str:
    """How the CSV writes a JSON value: null empty, booleans lower-case, numbers as they are, formula-looking
    text behind a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@pytest.mark.parametrize(("path", "params"), ENDPOINTS)
async def test_csv_header_is_the_json_row_keys_and_cells_are_the_json_values(client, dataset, path, params):
    body = await get_json(client, path, **params)
    records = parse_csv(await client.get(path, params={**params, "format": "csv"}))

    assert body["rows"], "the data set gives every endpoint rows"
    assert records[0] == list(body["rows"][0])
    assert records[1:] == [[as_cell(v) for v in row.values()] for row in body["rows"]]


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/v1/analytics/basis", BASIS_HEADER),
        (
            "/v1/analytics/strategy-changes",
            "strategy,title,changes,unexplained_changes,mean_days_between_changes,median_days_between_changes,"
            "min_days_between_changes,current_version,current_version_age_days,changes_per_month,unstable\r\n",
        ),
        (
            "/v1/analytics/kpis",
            "kpi,name,kind,unit,target,direction,owner,has_owner,changes,unexplained_changes,decisions\r\n",
        ),
        (
            "/v1/analytics/accountability",
            "owner,decisions,data,emotion,emotion_unsupported,data_share,emotion_share,reviewed,reviews_due,"
            "overdue_reviews,reversed,reversal_rate,role,directed,directed_emotion_share\r\n",
        ),
    ],
)
async def test_csv_without_rows_is_the_header_alone(client, path, header):
    # Basis grouped: no zero-filled rows.
    params = {"from": "2024-01-01", "to": "2025-01-01", "group_by": "owner"}
    response = await client.get(path, params=params, headers={"Accept": "text/csv"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == header
