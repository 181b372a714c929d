"""The fixed data set every analytics test reads, built through the API, and helpers to read answers.

Main range ``R`` = [2026-01-01, 2026-10-01): 273 days. Decisions (D0 and D12 lie outside R); "ev" = evidence
cited, "unsup" = a data claim without evidence (class emotion, `emotion_unsupported`):

id  | decided_at (UTC)           | owner | team   | channel     | category    | basis         | class   | budget
--- | -------------------------- | ----- | ------ | ----------- | ----------- | ------------- | ------- | -----------
D0  | 2025-12-31 23:59:59.999999 | anna  | growth | paid_search | budget      | data + ev     | data    | 100 EUR
D1  | 2026-01-05 09:00 (Mon)     | anna  | growth | paid_search | budget      | data + ev     | data    | 1000.10 EUR
D2  | 2026-01-20 15:30           | anna  | growth | email       | creative    | intuition     | emotion | 500 EUR
D3  | 2026-02-14 12:00           | boris | brand  | paid_search | channel_mix | data, no ev   | unsup   | 2000.20 USD
D4  | 2026-03-31 23:59:59.999999 | boris | brand  | seo         | positioning | experiment+ev | data    |
D5  | 2026-04-01 00:00:00        | vera  | =ops   | seo         | targeting   | authority     | emotion | 3000 EUR
D6  | 2026-04-15 08:00           | anna  | growth | paid_search | budget      | research + ev | data    | 1500 USD
D7  | 2026-05-17 23:59 (Sun)     | anna  | growth | email       | creative    | emotion       | emotion |
D8  | 2026-05-18 00:00 (Mon)     | anna  | growth | email       | creative    | data + ev     | data    | 700.50 EUR
D9  | 2026-06-30 12:00           | boris | brand  | (none)      | other       | data, no ev   | unsup   |
D10 | 2026-08-03 10:00           | vera  | =ops   | social      | pricing     | data + ev     | data    | 250 EUR
D11 | 2026-09-30 23:59:59.999999 | boris | brand  | social      | budget      | intuition     | emotion | 400 GBP
D12 | 2026-10-01 00:00:00        | anna  | growth | paid_search | budget      | data + ev     | data    |

id  | strategy      | kpis         | review_by  | outcome (reviewed)  | status
--- | ------------- | ------------ | ---------- | ------------------- | ----------------------
D1  | growth-2026   | cpa          | 2026-02-01 | success (02-02)     | active
D2  |               |              | 2026-03-01 |                     | active
D3  | brand-refresh | revenue      |            | failure (03-01)     | active
D4  | growth-2026   | cpa, revenue |            | partial (04-10)     | active
D5  | brand-refresh | leads        | 2026-05-01 | inconclusive (05-02)| active
D6  | growth-2026   | cpa          |            | success (05-01)     | reversed
D7  |               |              |            |                     | superseded (by D8)
D8  | growth-2026   | leads        | 2099-01-01 |                     | active
D9  |               |              | 2026-07-15 | failure (07-20)     | active
D10 | brand-refresh | revenue      |            | success (09-01)     | active
(D0, D11 and D12: none of these.)

Tags: D1 and D4 carry ``q1``; D4 also ``seo``.

Strategies (intervals from the previous version's effective_from):
- growth-2026: v1 2025-11-01 10:00 (before R); v2 2026-01-10 10:00 "Budget cut." (70 days); v3 2026-02-09 10:00
  reason "" (30 days exactly, not unstable); v4 2026-05-10 22:00 (a Sunday) reason "   " (90.5 days).
- brand-refresh: v1 2026-03-01 10:00; v2 2026-03-31 07:36 "Competitor launch." (29.9 days: unstable); v3 2026-04-30
  07:36 "New agency." (30 days); v4 2026-06-09 07:36 no reason (40 days); v5 2026-09-17 07:36 "Autumn." (100 days).

KPIs (created and revised while the test runs, i.e. "now"):
- cpa: money, owner anna; revised twice: with a reason, then without one.
- leads: activity, named "-Leads per week", no owner; revised once with a whitespace-only reason.
- revenue: money, named "=Revenue", owner boris; never revised.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests import factories

R = {"from": "2026-01-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}
R_FROM = "2026-01-01T00:00:00.000000Z"
R_TO = "2026-10-01T00:00:00.000000Z"

GA4 = [{"source": "ga4", "reference": "https://analytics.example.com/r/1"}]
CRM = [{"source": "crm", "reference": "crm://report/7"}]


def _decision(**fields: Any) -> dict[str, Any]:
    return {"title": "Decision", "rationale": "Because.", "category": "other", "evidence": [], **fields}


async def build(client: httpx.AsyncClient) -> dict[str, str]:
    """Create the data set; returns the decision ids by name (``"D0"`` … ``"D12"``)."""
    await factories.person(client, "anna.petrova", team="growth")
    await factories.person(client, "boris.ivanov", team="brand")
    await factories.person(client, "vera.orlova", team="=ops")
    await factories.source(client, "ga4")
    await factories.source(client, "crm", kind="crm")

    await factories.kpi(
        client, "cpa", name="Cost per acquisition", unit="EUR", kind="money", target=40, direction="decrease",
        owner="anna.petrova", change_reason="Agreed with finance.",
    )  # fmt: skip
    await factories.kpi(
        client, "cpa", name="Cost per acquisition", unit="EUR", kind="money", target=35, direction="decrease",
        owner="anna.petrova", change_reason="Finance cut the target.",
    )  # fmt: skip
    await factories.kpi(
        client, "cpa", name="Cost per acquisition", unit="EUR", kind="money", target=38, direction="decrease",
        owner="anna.petrova",
    )  # fmt: skip
    await factories.kpi(client, "leads", name="-Leads per week", unit="leads", kind="activity", direction="increase")
    await factories.kpi(
        client, "leads", name="-Leads per week", unit="leads", kind="activity", direction="increase", target=50,
        change_reason="   ",
    )  # fmt: skip
    await factories.kpi(
        client, "revenue", name="=Revenue", unit="EUR", kind="money", target=100000, direction="increase",
        owner="boris.ivanov",
    )  # fmt: skip

    await factories.strategy(client, "growth-2026", title="Growth 2026")
    await factories.version(client, "growth-2026", effective_from="2025-11-01T10:00:00Z", summary="v1")
    await factories.version(
        client, "growth-2026", effective_from="2026-01-10T10:00:00Z", summary="v2", change_reason="Budget cut."
    )
    await factories.version(
        client, "growth-2026", effective_from="2026-02-09T10:00:00Z", summary="v3", change_reason=""
    )
    await factories.version(
        client, "growth-2026", effective_from="2026-05-10T22:00:00Z", summary="v4", change_reason="   "
    )
    await factories.strategy(client, "brand-refresh", title="Brand refresh")
    await factories.version(client, "brand-refresh", effective_from="2026-03-01T10:00:00Z", summary="v1")
    await factories.version(
        client, "brand-refresh", effective_from="2026-03-31T07:36:00Z", summary="v2", change_reason="Competitor launch."
    )
    await factories.version(
        client, "brand-refresh", effective_from="2026-04-30T07:36:00Z", summary="v3", change_reason="New agency."
    )
    await factories.version(client, "brand-refresh", effective_from="2026-06-09T07:36:00Z", summary="v4")
    await factories.version(
        client, "brand-refresh", effective_from="2026-09-17T07:36:00Z", summary="v5", change_reason="Autumn."
    )

    anna, boris, vera = "anna.petrova", "boris.ivanov", "vera.orlova"
    items: dict[str, dict[str, Any]] = {}
    items["D0"] = _decision(
        decided_at="2025-12-31T23:59:59.999999Z", owner=anna, channel="paid_search", category="budget",
        basis="data", evidence=GA4, budget_amount=100, budget_currency="EUR",
    )  # fmt: skip
    items["D1"] = _decision(
        decided_at="2026-01-05T09:00:00Z", owner=anna, channel="paid_search", category="budget",
        basis="data", evidence=GA4, budget_amount=1000.10, budget_currency="EUR", strategy="growth-2026",
        kpis=["cpa"], tags=["q1"], expected_outcome={"description": "CPA under 40", "review_by": "2026-02-01"},
    )  # fmt: skip
    items["D2"] = _decision(
        decided_at="2026-01-20T15:30:00Z", owner=anna, channel="email", category="creative",
        basis="intuition", budget_amount=500, budget_currency="EUR",
        expected_outcome={"description": "More opens", "review_by": "2026-03-01T00:00:00Z"},
    )  # fmt: skip
    items["D3"] = _decision(
        decided_at="2026-02-14T12:00:00Z", owner=boris, channel="paid_search", category="channel_mix",
        basis="data", budget_amount=2000.20, budget_currency="USD", strategy="brand-refresh", kpis=["revenue"],
    )  # fmt: skip
    items["D4"] = _decision(
        decided_at="2026-03-31T23:59:59.999999Z", owner=boris, channel="seo", category="positioning",
        basis="experiment", evidence=CRM, strategy="growth-2026", kpis=["cpa", "revenue"], tags=["q1", "seo"],
    )  # fmt: skip
    items["D5"] = _decision(
        decided_at="2026-04-01T00:00:00Z", owner=vera, channel="seo", category="targeting",
        basis="authority", budget_amount=3000, budget_currency="EUR", strategy="brand-refresh", kpis=["leads"],
        expected_outcome={"description": "Reach", "review_by": "2026-05-01"},
    )  # fmt: skip
    items["D6"] = _decision(
        decided_at="2026-04-15T08:00:00Z", owner=anna, channel="paid_search", category="budget",
        basis="research", evidence=GA4, budget_amount=1500, budget_currency="USD", strategy="growth-2026",
        kpis=["cpa"],
    )  # fmt: skip
    items["D7"] = _decision(
        decided_at="2026-05-17T23:59:00Z", owner=anna, channel="email", category="creative", basis="emotion",
    )  # fmt: skip
    items["D8"] = _decision(
        decided_at="2026-05-18T00:00:00Z", owner=anna, channel="email", category="creative", basis="data",
        evidence=CRM, budget_amount=700.50, budget_currency="EUR", strategy="growth-2026", kpis=["leads"],
        expected_outcome={"description": "Leads up", "kpi": "leads", "review_by": "2099-01-01"},
    )  # fmt: skip
    items["D9"] = _decision(
        decided_at="2026-06-30T12:00:00Z", owner=boris, category="other", basis="data",
        expected_outcome={"description": "Something", "review_by": "2026-07-15T00:00:00Z"},
    )  # fmt: skip
    items["D10"] = _decision(
        decided_at="2026-08-03T10:00:00Z", owner=vera, channel="social", category="pricing", basis="data",
        evidence=GA4, budget_amount=250, budget_currency="EUR", strategy="brand-refresh", kpis=["revenue"],
    )  # fmt: skip
    items["D11"] = _decision(
        decided_at="2026-09-30T23:59:59.999999Z", owner=boris, channel="social", category="budget",
        basis="intuition", budget_amount=400, budget_currency="GBP",
    )  # fmt: skip
    items["D12"] = _decision(
        decided_at="2026-10-01T00:00:00Z", owner=anna, channel="paid_search", category="budget",
        basis="data", evidence=GA4,
    )  # fmt: skip

    # One batch, all or nothing, in this order.
    response = await client.post("/v1/decisions/batch", json={"items": list(items.values())})
    assert response.status_code == 201, response.text
    d = {name: created["id"] for name, created in zip(items, response.json()["items"], strict=True)}

    await factories.reverse(client, d["D6"], by=boris)
    await factories.reverse(client, d["D7"], by=anna, superseded_by=d["D8"])
    for name, result, reviewed_at in [
        ("D1", "success", "2026-02-02T09:00:00Z"),
        ("D3", "failure", "2026-03-01T09:00:00Z"),
        ("D4", "partial", "2026-04-10T09:00:00Z"),
        ("D5", "inconclusive", "2026-05-02T09:00:00Z"),
        ("D6", "success", "2026-05-01T09:00:00Z"),
        ("D9", "failure", "2026-07-20T09:00:00Z"),
        ("D10", "success", "2026-09-01T09:00:00Z"),
    ]:
        await factories.outcome(client, d[name], result=result, reviewed_at=reviewed_at, reviewed_by=boris)
    return d


def basis_row(
    period: str | None,
    group: str | None,
    total: float,
    data: float,
    emotion: float,
    unsupported: float,
    data_share: float | None,
    emotion_share: float | None,
) -> dict[str, Any]:
    return {
        "period_start": period,
        "group": group,
        "total": total,
        "data": data,
        "emotion": emotion,
        "emotion_unsupported": unsupported,
        "data_share": data_share,
        "emotion_share": emotion_share,
    }


def empty_row(period: str | None, group: str | None = None) -> dict[str, Any]:
    return basis_row(period, group, 0, 0, 0, 0, None, None)


async def get_json(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()  # type: ignore[no-any-return]


def parse_csv(response: httpx.Response) -> list[list[str]]:
    """An RFC 4180 body: UTF-8, CRLF line ends; returns its records."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline="")))
