"""The records `.ci/schemathesis` seeds, and the Schemathesis hook that makes generated requests refer to them.

Random handles and keys name nothing, so without help nearly every generated decision is refused as an unknown
reference and the run never reaches the success paths (nor the stateful phase's next steps). So:

- ``python .ci/schemathesis_hooks.py URL KEY`` seeds, over the API, people, data sources, a strategy with two
  versions, KPIs and two decisions;
- loaded by Schemathesis (``SCHEMATHESIS_HOOKS=schemathesis_hooks``, ``.ci`` on ``PYTHONPATH``), the hook replaces,
  in most positive cases, each reference a generated body makes (``owner``, ``participants``, an evidence item's
  ``source``, ``strategy``, ``kpis``, …) by one of the seeded records; the rest keep the generated value, so unknown
  references are still sent. In one positive case in eight it also spoils one text value of the body or the query
  (NUL, unusual but valid text), which generators seldom make. Negative cases are left as
  generated;
- two checks of the API's own rules join Schemathesis's: a 422 names the field it refuses, and no answer accepts
  text with NUL.
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
    # Text that must be refused with a 422 naming its field, or stored and answered exactly as sent: NUL, and valid
    # but unusual text (a byte-order mark, a right-to-left override, a combining accent, an emoji sequence). Not a
    # lone surrogate: Schemathesis checks each case against the schema with a UTF-8 regex engine, which cannot take
    # one (tests/ hold those cases).
    SPOILERS = ["\x00", "\ufeff\u202e", "e\u0301", "\U0001f469\u200d\U0001f4bb"]

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

    def _text_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if isinstance(value, str):
            return [path]
        if isinstance(value, dict):
            return [found for name, item in value.items() for found in _text_paths(item, (*path, name))]
        if isinstance(value, list):
            return [found for index, item in enumerate(value) for found in _text_paths(item, (*path, index))]
        return []

    def _replaced(value: Any, path: tuple[Any, ...], spoiler: str) -> Any:
        if not path:
            return value + spoiler
        head, rest = path[0], path[1:]
        if isinstance(value, dict):
            return {**value, head: _replaced(value[head], rest, spoiler)}
        return [_replaced(item, rest, spoiler) if index == head else item for index, item in enumerate(value)]

    def _spoiled(parts: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        """``parts`` (the body and the query), one time in eight with one text value in them spoiled."""
        paths = _text_paths(parts)
        if not paths:
            return st.just(parts)
        spoil = st.tuples(st.sampled_from(paths), st.sampled_from(SPOILERS)).map(lambda p: _replaced(parts, *p))
        return st.integers(0, 7).flatmap(lambda n: spoil if n == 0 else st.just(parts))

    @schemathesis.hook
    def flatmap_case(context: Any, case: Any) -> st.SearchStrategy[Any]:
        if case.meta is not None and case.meta.generation.mode.is_negative:
            return st.just(case)
        body = _referring(case.body) if isinstance(case.body, dict | list) else st.just(case.body)
        query = dict(case.query or {})

        def with_parts(parts: dict[str, Any]) -> Any:
            case.body = parts["body"]
            if parts["query"] != query:
                case.query = parts["query"]
            return case

        return body.flatmap(lambda drawn: _spoiled({"body": drawn, "query": query})).map(with_parts)

    def _problem(response: Any) -> dict[str, Any] | None:
        if not response.headers.get("content-type", [""])[0].startswith("application/problem+json"):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    @schemathesis.check
    def refusal_names_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
        """A 422 names what it refuses: its problem carries ``errors``, each with a ``loc``."""
        if response.status_code != 422:
            return None
        problem = _problem(response)
        if problem is None:
            raise AssertionError("a 422 that is not application/problem+json")
        errors = problem.get("errors")
        if not errors or not all(isinstance(error, dict) and error.get("loc") for error in errors):
            raise AssertionError(f"a 422 that names no field: {problem.get('code')}: {problem.get('detail')}")
        return True

    def _strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [text for item in (*value.keys(), *value.values()) for text in _strings(item)]
        if isinstance(value, list):
            return [text for item in value for text in _strings(item)]
        return []

    @schemathesis.check
    def no_nul_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
        """Text with NUL cannot be stored alike on both engines: it is refused, never accepted and answered back."""
        if response.status_code >= 300:
            return None
        if response.headers.get("content-type", [""])[0].startswith("application/json"):
            carried = any("\x00" in text for text in _strings(response.json()))
        else:  # NDJSON, CSV
            carried = "\x00" in response.text or "\\u0000" in response.text
        if carried:
            raise AssertionError("an answer that carries a NUL character: text with NUL was accepted")
        return True


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2])
