"""The spec's OpenAPI links hold: each one, followed from a real answer of its operation (its runtime expressions
evaluated on that answer's body and headers), leads to a request its target answers with success."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests import factories

Produce = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
_serial = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


async def _decision(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/v1/decisions", json=factories.decision_body(title=_unique("Decision")))


async def _read_decision(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get(f"/v1/decisions/{(await _decision(client)).json()['id']}")


async def _corrected(client: httpx.AsyncClient) -> httpx.Response:
    created = (await _decision(client)).json()
    return await client.patch(f"/v1/decisions/{created['id']}", json={"edit_reason": "Typo.", "title": "Fixed"})


async def _reversed(client: httpx.AsyncClient) -> httpx.Response:
    created = (await _decision(client)).json()
    return await client.post(f"/v1/decisions/{created['id']}/reverse", json=factories.reverse_body())


async def _reviewed(client: httpx.AsyncClient) -> httpx.Response:
    created = (await _decision(client)).json()
    return await client.post(f"/v1/decisions/{created['id']}/outcome", json=factories.outcome_body())


async def _strategy(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/v1/strategies", json={"key": _unique("plan"), "title": "A plan"})


async def _version(client: httpx.AsyncClient) -> httpx.Response:
    key = (await _strategy(client)).json()["key"]
    return await client.post(f"/v1/strategies/{key}/versions", json={"summary": "V1", "effective_from": "2026-01-01"})


async def _kpi(client: httpx.AsyncClient, *, again: bool = False) -> httpx.Response:
    key = _unique("kpi")
    body = {"name": "A KPI", "unit": "EUR", "kind": "money"}
    if again:
        await client.put(f"/v1/kpis/{key}", json=body)
    return await client.put(f"/v1/kpis/{key}", json={**body, "change_reason": "Renamed."})


async def _person(client: httpx.AsyncClient, *, again: bool = False) -> httpx.Response:
    handle = _unique("person")
    if again:
        await client.put(f"/v1/people/{handle}", json={"name": "P", "team": "growth"})
    return await client.put(f"/v1/people/{handle}", json={"name": "P", "team": "growth"})


async def _source(client: httpx.AsyncClient, *, again: bool = False) -> httpx.Response:
    key = _unique("source")
    if again:
        await client.put(f"/v1/data-sources/{key}", json={"name": "S", "kind": "crm"})
    return await client.put(f"/v1/data-sources/{key}", json={"name": "S", "kind": "crm"})


async def _contractor(client: httpx.AsyncClient, *, again: bool = False) -> httpx.Response:
    key = _unique("contractor")
    if again:
        await client.put(f"/v1/contractors/{key}", json={"name": "C", "kind": "agency"})
    return await client.put(f"/v1/contractors/{key}", json={"name": "C", "kind": "agency"})


async def _again(produce: Callable[..., Awaitable[httpx.Response]], client: httpx.AsyncClient) -> httpx.Response:
    return await produce(client, again=True)


# A fresh answer of each linked operation, by its operation id and status.
PRODUCERS: dict[tuple[str, str], Produce] = {
    ("upsertPerson", "201"): _person,
    ("upsertPerson", "200"): lambda client: _again(_person, client),
    ("upsertDataSource", "201"): _source,
    ("upsertDataSource", "200"): lambda client: _again(_source, client),
    ("upsertContractor", "201"): _contractor,
    ("upsertContractor", "200"): lambda client: _again(_contractor, client),
    ("createDecision", "201"): _decision,
    ("createDecisionBatch", "201"): lambda client: client.post(
        "/v1/decisions/batch", json={"items": [factories.decision_body(title=_unique("Batch"))]}
    ),
    ("getDecision", "200"): _read_decision,
    ("updateDecision", "200"): _corrected,
    ("reverseDecision", "200"): _reversed,
    ("recordDecisionOutcome", "201"): _reviewed,
    ("createStrategy", "201"): _strategy,
    ("createStrategyVersion", "201"): _version,
    ("putKpi", "201"): _kpi,
    ("putKpi", "200"): lambda client: _kpi(client, again=True),
    ("createApiKey", "201"): lambda client: client.post("/v1/keys", json={"name": _unique("key"), "scope": "read"}),
}
# What a followed link sends to a target that takes a body.
BODIES: dict[str, dict[str, Any]] = {
    "updateDecision": {"edit_reason": "Followed a link.", "title": "Corrected through a link"},
    "reverseDecision": factories.reverse_body(),
    "recordDecisionOutcome": factories.outcome_body(),
    "createStrategyVersion": {"summary": "Next", "effective_from": "2026-03-01"},
    "putKpi": {"name": "Revised", "unit": "EUR", "kind": "money", "change_reason": "Followed a link."},
}
_POINTER = re.compile(r"^\$response\.body#(/.*)$")
_HEADER = re.compile(r"^\$response\.header\.(.+)$")


def _evaluate(expression: str, response: httpx.Response) -> Any:
    if pointer := _POINTER.match(expression):
        value: Any = response.json()
        for part in pointer[1].split("/")[1:]:
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value
    if header := _HEADER.match(expression):
        return response.headers[header[1]]
    raise AssertionError(f"unexpected runtime expression {expression!r}")


def _links(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any], str, str]]:
    """(source operation id, status, link name, link, target method, target path) for every link of the spec."""
    where = {
        operation["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    return [
        (operation["operationId"], status, name, link, *where[link["operationId"]])
        for item in spec["paths"].values()
        for operation in item.values()
        for status, response in operation["responses"].items()
        for name, link in response.get("links", {}).items()
    ]


def test_every_producer_of_an_id_links_to_what_reads_it(app_instance):
    links = {(source, name) for source, _, name, *_ in _links(app_instance.openapi())}
    assert {
        ("createDecision", "getDecision"),
        ("createDecision", "updateDecision"),
        ("createDecision", "listDecisionRevisions"),
        ("createDecision", "reverseDecision"),
        ("createDecision", "recordDecisionOutcome"),
        ("createStrategy", "createStrategyVersion"),
        ("createStrategyVersion", "getStrategyVersion"),
        ("putKpi", "listKpiRevisions"),
        ("upsertPerson", "getPerson"),
        ("upsertDataSource", "getDataSource"),
        ("upsertContractor", "getContractor"),
        ("createApiKey", "revokeApiKey"),
    } <= links
    sources = {(source, status) for source, status, *_ in _links(app_instance.openapi())}
    assert sources == set(PRODUCERS)


async def test_each_link_followed_from_a_real_answer_succeeds(app_instance, client_for):
    admin = client_for("admin")
    await factories.basics(admin)
    followed = []
    for source, status, name, link, method, path in _links(app_instance.openapi()):
        produced = await PRODUCERS[(source, status)](admin)
        assert produced.status_code == int(status), (source, produced.text)
        headers, target = {}, path
        for parameter, expression in link["parameters"].items():
            location, _, named = parameter.rpartition(".")
            value = _evaluate(expression, produced)
            if location == "header":
                headers[named] = value
            else:
                target = target.replace(f"{{{named}}}", str(value))
        body = BODIES.get(link["operationId"])
        answer = await admin.request(method.upper(), target, json=body, headers=headers)
        assert answer.status_code < 300, (source, status, name, target, answer.text)
        followed.append((source, name))
    assert len(followed) == len(_links(app_instance.openapi()))


@pytest.mark.parametrize("broken", ["getNothing", "getDecision:handle"])
def test_a_link_to_a_missing_operation_or_parameter_fails_the_spec(broken, monkeypatch):
    from app import openapi
    from app.main import create_app

    target, _, parameter = broken.partition(":")
    links = {"createDecision": {"201": {"x": (target, {parameter or "decision_id": "$response.body#/id"})}}}
    monkeypatch.setattr(openapi, "LINKS", links)
    with pytest.raises(RuntimeError, match="link createDecision 201 x"):
        create_app().openapi()
