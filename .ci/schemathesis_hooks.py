"""The records `.ci/schemathesis` seeds, and the Schemathesis hook that makes generated requests refer to them.

Random handles and keys name nothing, so without help nearly every generated decision is refused as an unknown
reference and the run never reaches the success paths (nor the stateful phase's next steps). So:

- ``python .ci/schemathesis_hooks.py URL KEY`` seeds, over the API, people, data sources, a strategy with two
  versions, KPIs and two decisions;
- loaded by Schemathesis (``SCHEMATHESIS_HOOKS=schemathesis_hooks``, ``.ci`` on ``PYTHONPATH``), the hook replaces,
  in most positive cases, each reference a generated body makes (``owner``, ``participants``, an evidence item's
  ``source``, ``strategy``, ``kpis``, …) by one of the seeded records; the rest keep the generated value, so unknown
  references are still sent. Negative cases are left as generated.
"""

from __future__ import annotations

import sys
from typing import Any

PEOPLE = ["anna.petrova", "boris.ivanov"]
SOURCES = ["ga4", "crm"]
STRATEGIES = ["growth-2026"]
KPIS = ["cpa", "signups"]
# Body fields (at any depth) that name a record, and the records they may name.
REFERENCES: dict[str, list[str]] = {
    "owner": PEOPLE,
    "participants": PEOPLE,
    "by": PEOPLE,
    "reviewed_by": PEOPLE,
    "changed_by": PEOPLE,
    "directed_by": PEOPLE,
    "person": PEOPLE,
    "source": SOURCES,
    "strategy": STRATEGIES,
    "kpis": KPIS,
    "kpi": KPIS,
}

SEED: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/v1/people/anna.petrova", {"name": "Anna Petrova", "team": "growth", "email": "anna@example.com"}),
    ("PUT", "/v1/people/boris.ivanov", {"name": "Boris Ivanov", "team": "brand"}),
    ("PUT", "/v1/data-sources/ga4", {"name": "GA4", "kind": "analytics"}),
    ("PUT", "/v1/data-sources/crm", {"name": "CRM", "kind": "crm", "url": "https://crm.example.com"}),
    ("POST", "/v1/strategies", {"key": "growth-2026", "title": "Growth 2026"}),
    ("POST", "/v1/strategies/growth-2026/versions", {"summary": "Search first", "effective_from": "2026-01-01"}),
    (
        "POST",
        "/v1/strategies/growth-2026/versions",
        {"summary": "Search and email", "effective_from": "2026-02-01", "change_reason": "Email converts."},
    ),
    (
        "PUT",
        "/v1/kpis/cpa",
        {
            "name": "Cost per acquisition",
            "unit": "EUR",
            "kind": "money",
            "target": 40,
            "direction": "decrease",
            "owner": "anna.petrova",
        },
    ),
    ("PUT", "/v1/kpis/signups", {"name": "Sign-ups", "unit": "count", "kind": "activity", "target": 500}),
    (
        "POST",
        "/v1/decisions",
        {
            "title": "Move budget to search",
            "rationale": "Search converts better.",
            "basis": "data",
            "evidence": [{"source": "ga4", "reference": "report/1"}],
            "owner": "anna.petrova",
            "channel": "paid_search",
            "category": "budget",
            "budget_amount": 1500,
            "budget_currency": "EUR",
            "strategy": "growth-2026",
            "kpis": ["cpa"],
            "decided_at": "2026-03-01T10:00:00Z",
            "expected_outcome": {
                "description": "CPA under 40",
                "kpi": "cpa",
                "target_value": 40,
                "review_by": "2026-06-01",
            },
        },
    ),
    (
        "POST",
        "/v1/decisions",
        {
            "title": "Launch a brand video",
            "rationale": "The CEO likes video.",
            "basis": "authority",
            "owner": "boris.ivanov",
            "channel": "video",
            "category": "creative",
            "decided_at": "2026-03-02T10:00:00Z",
        },
    ),
]


def seed(base_url: str, key: str) -> None:
    import httpx

    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for method, path, body in SEED:
            response = client.request(method, path, json=body)
            if response.status_code >= 300:
                sys.exit(f"seeding {method} {path}: {response.status_code} {response.text}")


try:
    import schemathesis
    from hypothesis import strategies as st
except ImportError:  # seeding needs neither
    pass
else:

    def _referring(value: Any, choices: list[str] | None = None) -> st.SearchStrategy[Any]:
        """``value`` with each reference in it drawn: nine times in ten a seeded record, else as generated."""
        if choices is not None:
            if isinstance(value, str):
                return st.integers(0, 9).flatmap(lambda n: st.just(value) if n == 0 else st.sampled_from(choices))
            if isinstance(value, list):
                return st.tuples(*(_referring(item, choices) for item in value)).map(list)
        if isinstance(value, dict):
            return st.fixed_dictionaries({name: _referring(item, REFERENCES.get(name)) for name, item in value.items()})
        if isinstance(value, list):
            return st.tuples(*(_referring(item) for item in value)).map(list)
        return st.just(value)

    @schemathesis.hook
    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
        if case.meta is not None and case.meta.generation.mode.is_negative:
            return st.just(case)
        if not isinstance(case.body, dict | list):
            return st.just(case)

        def with_body(body: Any) -> Any:
            case.body = body
            return case

        return _referring(case.body).map(with_body)


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2])
