"""The OpenAPI document: hand-chosen operation ids, the problem schema, security schemes.

``python -m app.openapi`` writes ``openapi/openapi.json``; a test fails when it differs from
what the app serves.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.core.errors import FieldError, Problem
from app.core.types import TIMESTAMP_RANGE

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"

DESCRIPTION = """
The Marketing Decision Log records every marketing decision with its rationale, the data it
rests on and the one person accountable for it.

**Authentication.** Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
Scopes, each including the ones before it: `analytics` (aggregates only), `read` (+ records),
`write` (+ create and change), `admin` (+ key management). A missing or invalid key gets 401,
too small a scope 403. Analytics GETs also take the key as `api_key=<key>` for BI tools, but
only a key that cannot write (`analytics`, `read`): a `write` or `admin` key in a URL gets 403
`api_key_in_url_refused`. A new key is shown once and stored only as a hash.

**Classification.** Every decision shows `basis_class` and `classification_reason`:
`intuition`, `emotion` and `authority` are emotional bases (`declared_<basis>`); `data`,
`experiment` and `research` count as data only with at least one evidence item
(`evidence_cited`), otherwise as emotion (`data_claim_without_evidence`).

**Errors** are RFC 9457 `application/problem+json` with a stable `code`; validation errors
carry an `errors` list of `{loc, msg, type}`.

**Lists** answer `{"items": [...], "next_cursor": ...}` with a `Link: <…>; rel="next"` header;
`limit` is at most 500.

**Timestamps** are UTC with microseconds (`2026-03-01T10:00:00.123456Z`); a timestamp sent
without a zone is refused, a plain date means midnight UTC. Every timestamp sent, in a body or
a query, must lie {TIMESTAMP_RANGE}; others get 422.

**Text** must be storable: a NUL character (U+0000) or a lone surrogate (an escaped `\\ud800`)
anywhere gets 422 naming the field, and names and teams must not be blank.

**Conditional requests and formats.** `If-Match` compares entity tags strongly (RFC 9110): a
weak tag `W/"…"` never matches (412). `Accept` is negotiated with its q-values: CSV only when
preferred (`text/csv;q=0` never gets CSV); `format=csv` or `format=json` decides outright.
""".strip().replace("{TIMESTAMP_RANGE}", TIMESTAMP_RANGE)


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """An API route as the document shows it: its full path, its methods and its operation id."""

    path: str
    methods: set[str]
    operation_id: str | None


def api_routes(app: FastAPI) -> list[ApiRoute]:
    """Every API route of the service's ``app``: the routes of the routers :func:`app.api.include_api` included,
    each under its prefix."""
    return [
        ApiRoute(prefix + route.path, set(route.methods or ()), route.operation_id)
        for prefix, router in app.state.api_routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]


# What FastAPI makes up for an operation without a hand-chosen id is `name_path_method`, never camelCase.
HAND_CHOSEN = re.compile(r"^[a-z][a-zA-Z0-9]*$")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _check_operation_ids(schema: dict[str, Any]) -> None:
    missing = [
        path
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS and not HAND_CHOSEN.match(operation.get("operationId", ""))
    ]
    if missing:
        raise RuntimeError(f"routes without a hand-chosen operation_id: {missing}")


def install_openapi(app: FastAPI) -> None:
    """The document, built now (routes added later are not in it) and refused when an operation has no
    hand-chosen id."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=TAGS,
        )
        _check_operation_ids(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components["Problem"].pop("$defs", None)
        components["FieldError"] = FieldError.model_json_schema(ref_template="#/components/schemas/{model}")
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    openapi()


# OpenAPI links: how the ids in an answer feed other operations (createDecision's `id` is getDecision's
# `decision_id`, …), for clients that follow them and for Schemathesis's stateful phase in CI. By operation id and
# status: link name → (target operation id, its parameters as runtime expressions).
Links = dict[str, tuple[str, dict[str, str]]]


def _decision_links(decision_id: str, *, etag: bool = False, done: str | None = None) -> Links:
    """From an answer that names a decision (``decision_id``, an expression) to what can be done with it; ``etag``:
    the answer carries the decision's ETag, sent back as ``If-Match``; ``done``: the operation that gave the answer,
    when it cannot be done twice (a reversal, an outcome review)."""
    guarded = {"decision_id": decision_id, **({"header.If-Match": "$response.header.ETag"} if etag else {})}
    plain = {"decision_id": decision_id}
    links: Links = {
        "getDecision": ("getDecision", plain),
        "updateDecision": ("updateDecision", guarded),
        "listDecisionRevisions": ("listDecisionRevisions", plain),
        "reverseDecision": ("reverseDecision", guarded),
        "recordDecisionOutcome": ("recordDecisionOutcome", guarded),
    }
    links.pop(done or "", None)
    return links


def _keyed_links(*targets: str) -> Links:
    """To ``targets``, each taking the answer's ``key`` as its ``key`` path parameter."""
    return {target: (target, {"key": "$response.body#/key"}) for target in targets}


_PERSON: Links = {"getPerson": ("getPerson", {"handle": "$response.body#/handle"})}
_DATA_SOURCE = _keyed_links("getDataSource")
_CONTRACTOR = _keyed_links("getContractor")
_KPI = _keyed_links("getKpi", "listKpiRevisions", "putKpi")
LINKS: dict[str, dict[str, Links]] = {
    "upsertPerson": {"200": _PERSON, "201": _PERSON},
    "upsertDataSource": {"200": _DATA_SOURCE, "201": _DATA_SOURCE},
    "upsertContractor": {"200": _CONTRACTOR, "201": _CONTRACTOR},
    "createDecision": {"201": _decision_links("$response.body#/id", etag=True)},
    "createDecisionBatch": {"201": _decision_links("$response.body#/items/0/id")},
    "getDecision": {"200": _decision_links("$response.body#/id", etag=True)},
    "updateDecision": {"200": _decision_links("$response.body#/id", etag=True)},
    "reverseDecision": {"200": _decision_links("$response.body#/id", etag=True, done="reverseDecision")},
    "recordDecisionOutcome": {"201": _decision_links("$response.body#/id", etag=True, done="recordDecisionOutcome")},
    "createStrategy": {"201": _keyed_links("getStrategy", "createStrategyVersion", "listStrategyVersions")},
    "createStrategyVersion": {
        "201": {
            "getStrategyVersion": (
                "getStrategyVersion",
                {"key": "$response.body#/strategy", "number": "$response.body#/number"},
            ),
            "listStrategyVersions": ("listStrategyVersions", {"key": "$response.body#/strategy"}),
            "createStrategyVersion": ("createStrategyVersion", {"key": "$response.body#/strategy"}),
            "getStrategy": ("getStrategy", {"key": "$response.body#/strategy"}),
        }
    },
    "putKpi": {"200": _KPI, "201": _KPI},
    "createApiKey": {"201": {"revokeApiKey": ("revokeApiKey", {"key_id": "$response.body#/id"})}},
}


def add_links(schema: dict[str, Any]) -> None:
    """Write :data:`LINKS` into ``schema``'s responses. A link from an operation or status that is not there, to an
    operation that is not there or to a parameter the target does not declare, is an error."""
    operations = {
        operation["operationId"]: operation
        for methods in schema["paths"].values()
        for operation in methods.values()
        if "operationId" in operation
    }
    for source, by_status in LINKS.items():
        for status, links in by_status.items():
            response = operations[source]["responses"][status]
            for name, (target, parameters) in links.items():
                if target not in operations:
                    raise RuntimeError(f"link {source} {status} {name}: no operation {target!r}")
                declared = {(p["in"], p["name"]) for p in operations[target].get("parameters", [])}
                for parameter in parameters:
                    where, _, named = parameter.rpartition(".")
                    if not any(named == n and where in ("", location) for location, n in declared):
                        raise RuntimeError(f"link {source} {status} {name}: {target} has no parameter {parameter!r}")
                response.setdefault("links", {})[name] = {"operationId": target, "parameters": parameters}


TAGS = [
    {"name": "decisions", "description": "Marketing decisions, their corrections, reversals and outcome reviews."},
    {"name": "people", "description": "People who can own decisions."},
    {"name": "data sources", "description": "Registered sources of evidence."},
    {
        "name": "strategies",
        "description": "Named strategies and their numbered versions; every version after the first is a change.",
    },
    {"name": "kpis", "description": "Key performance indicators and their revisions."},
    {
        "name": "analytics",
        "description": "How marketing is really managed: data vs emotions, strategy changes, KPI hygiene, "
        "accountability, outcomes. JSON `rows` or CSV.",
    },
    {"name": "exports", "description": "Streaming exports for BI tools (NDJSON or CSV), incremental by `updated_at`."},
    {"name": "keys", "description": "API key management (admin)."},
    {
        "name": "integrity",
        "description": "Tamper evidence: the hash-chained, append-only log of every write, its signed checkpoints "
        "and their public key, and verification (admin).",
    },
    {"name": "operations", "description": "Health and readiness."},
]


def render_spec(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> None:
    from app.main import create_app

    text = render_spec(create_app())
    if "--check" in sys.argv:
        if not SPEC_PATH.exists() or SPEC_PATH.read_text() != text:
            sys.exit(f"{SPEC_PATH} is out of date: run `python -m app.openapi`")
        return
    SPEC_PATH.parent.mkdir(exist_ok=True)
    SPEC_PATH.write_text(text)
    print(f"wrote {SPEC_PATH}")


if __name__ == "__main__":
    main()
