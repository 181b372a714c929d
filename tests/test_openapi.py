"""The committed OpenAPI spec is what the app serves, and it is fit to generate clients from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI

from app.openapi import SPEC_PATH, api_routes, install_openapi, render_spec

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
# Fields whose values are a closed set: the spec must say which (`enum`, or `const` for one value).
ENUMERATED = {"basis", "basis_class", "status", "kind", "category", "result", "direction", "classification_reason"}
# `status` in a problem is the HTTP status code, a number.
NOT_ENUMERATED = {("Problem", "status")}
CAMEL_CASE = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")
OUT_OF_DATE = f"{SPEC_PATH.relative_to(SPEC_PATH.parents[1])} is out of date: run `make spec` and commit the result"


@pytest.fixture(scope="module")
def spec(app_instance: Any) -> dict[str, Any]:
    return app_instance.openapi()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def is_enum(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = resolve(spec, schema)
    if "enum" in schema or "const" in schema:
        return True
    variants = [s for s in schema.get("anyOf", schema.get("oneOf", [])) if resolve(spec, s).get("type") != "null"]
    if variants:
        return all(is_enum(spec, s) for s in variants)
    if schema.get("type") == "array" and "items" in schema:
        return is_enum(spec, schema["items"])
    return False


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


async def test_committed_spec_is_what_the_app_serves(anon):
    served = await anon.get("/openapi.json")
    assert served.status_code == 200

    assert SPEC_PATH.exists(), OUT_OF_DATE
    committed = json.loads(SPEC_PATH.read_text())
    assert committed == served.json(), OUT_OF_DATE


def test_committed_spec_is_byte_for_byte_what_make_spec_writes(app_instance):
    assert SPEC_PATH.read_text() == render_spec(app_instance), OUT_OF_DATE


def test_every_operation_has_the_hand_chosen_camel_case_id(app_instance, spec):
    chosen = {
        (method.lower(), re.sub(r"{(\w+):\w+}", r"{\1}", route.path)): route.operation_id
        for route in api_routes(app_instance)
        for method in route.methods
    }
    assert chosen, "no API routes found"
    ids = []
    for method, path, operation in operations(spec):
        operation_id = operation.get("operationId")
        assert operation_id, f"{method.upper()} {path} has no operationId"
        assert CAMEL_CASE.match(operation_id), f"{method.upper()} {path}: {operation_id!r} is not camelCase"
        assert operation_id == chosen[(method, path)], f"{method.upper()} {path}: {operation_id!r} is not hand-chosen"
        ids.append(operation_id)
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_a_route_without_a_hand_chosen_id_is_refused_at_start_up():
    app = FastAPI()
    router = APIRouter(prefix="/v1")

    @router.get("/things")
    async def list_things() -> list[str]:
        return []

    app.include_router(router)

    with pytest.raises(RuntimeError, match="/v1/things"):
        install_openapi(app)


def test_known_operation_ids(spec):
    ids = {(method, path): operation["operationId"] for method, path, operation in operations(spec)}

    assert ids[("put", "/v1/people/{handle}")] == "upsertPerson"
    assert ids[("get", "/v1/people")] == "listPeople"
    assert ids[("get", "/v1/people/{handle}")] == "getPerson"
    assert ids[("put", "/v1/data-sources/{key}")] == "upsertDataSource"
    assert ids[("get", "/v1/data-sources")] == "listDataSources"
    assert ids[("get", "/v1/data-sources/{key}")] == "getDataSource"
    assert ids[("put", "/v1/contractors/{key}")] == "upsertContractor"
    assert ids[("get", "/v1/contractors")] == "listContractors"
    assert ids[("get", "/v1/contractors/{key}")] == "getContractor"
    assert ids[("post", "/v1/decisions")] == "createDecision"
    assert ids[("get", "/v1/decisions")] == "listDecisions"


def test_enumerated_fields_are_enums(spec):
    checked = 0
    for name, schema in spec["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            if field in ENUMERATED and (name, field) not in NOT_ENUMERATED:
                assert is_enum(spec, prop), f"{name}.{field} is not an enum in the spec"
                checked += 1
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in ENUMERATED:
                assert is_enum(spec, parameter["schema"]), f"{method.upper()} {path}: `{parameter['name']}` is no enum"
                checked += 1
    assert checked >= 8


def test_data_source_kind_lists_every_kind(spec):
    kind = resolve(spec, spec["components"]["schemas"]["DataSourceUpsert"]["properties"]["kind"])

    assert kind["enum"] == ["analytics", "crm", "ads", "experiment", "survey", "research", "finance", "other"]


def test_problem_schema_exists(spec):
    problem = spec["components"]["schemas"]["Problem"]

    assert {"type", "title", "status", "detail", "code", "request_id", "errors"} <= problem["properties"].keys()
    assert {"type", "title", "status", "code"} <= set(problem["required"])


def test_every_error_response_references_the_problem_schema(spec):
    for method, path, operation in operations(spec):
        errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
        for status, response in errors.items():
            content = response.get("content", {})
            where = f"{method.upper()} {path} {status}"
            assert "application/problem+json" in content, f"{where} is not problem+json"
            for media in content.values():
                assert media.get("schema") == {"$ref": "#/components/schemas/Problem"}, f"{where} lacks the Problem"


def test_secured_operations_document_401_403_and_the_rate_limits_429(spec):
    for method, path, operation in operations(spec):
        if path.startswith("/v1/"):
            assert {"401", "403", "429"} <= operation["responses"].keys(), f"{method.upper()} {path}"


def test_addresses_are_documented_as_the_internationalised_forms_the_api_takes(spec):
    """The API takes an IRI and an internationalised e-mail address: the spec may not promise ASCII-only forms."""
    schemas = spec["components"]["schemas"]
    assert schemas["DataSourceUpsert"]["properties"]["url"]["anyOf"][0]["format"] == "iri"
    assert schemas["PersonUpsert"]["properties"]["email"]["anyOf"][0]["format"] == "idn-email"


def test_every_reference_resolves(spec):
    schemas = spec["components"]["schemas"]
    for ref in set(refs(spec)):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, f"dangling {ref}"
    assert "HTTPValidationError" not in schemas


def test_every_budget_amount_is_documented_as_the_exact_number_the_api_gives(spec):
    """Amounts are JSON numbers in every answer (exact digits): no schema may promise a string instead."""
    documented = {}
    for name, schema in spec["components"]["schemas"].items():
        amount = schema.get("properties", {}).get("budget_amount")
        if amount is not None:
            documented[name] = {option.get("type") for option in amount.get("anyOf", [amount])} - {"null"}
    assert {"DecisionRead", "DigestDecision"} <= documented.keys()
    assert {name: types for name, types in documented.items() if types != {"number"}} == {}
