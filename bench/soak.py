"""Soak: 50 concurrent clients for 60 s, 70 % reads, 25 % writes, 5 % analytics/export, against the real
service with ``--workers 2`` on PostgreSQL; then every acknowledged write is looked up in the database.

    .venv/bin/python bench/soak.py                     # or: make bench-soak
    .venv/bin/python bench/soak.py --seconds 300 --clients 100 --preload 20000

What one run does:

1. a throw-away database on the local PostgreSQL (``--pg``), migrated, a write key, and ``decision-log serve
   --workers 2`` on it (a signing key set, the rate limit far above the load, every other setting at its
   default); the organisation of bench/common.py registered through the API, and ``--preload`` (5,000)
   decisions of its generator posted through ``POST /v1/decisions/batch``;
2. ``--clients`` asyncio tasks, each with its own httpx.AsyncClient (one HTTP/1.1 keep-alive connection),
   each draw an operation from a seeded RNG and send it, again and again: ``--warmup`` (5) s unmeasured,
   then ``--seconds`` (60) s measured; at the end every client finishes the request it is in;
   - reads (70 %): ``GET /v1/decisions/{id}`` of a known id (its ETag kept), ``GET /v1/decisions`` filtered
     by owner / channel / basis_class (limit 50), half the time followed by the next page's cursor,
     ``GET /v1/kpis``, ``GET /v1/strategies``;
   - writes (25 %): ``POST /v1/decisions`` with a fresh ``Idempotency-Key`` (a new body of the generator),
     ``PATCH /v1/decisions/{id}`` with ``If-Match`` from an ETag read earlier (412 when another write came
     in between: expected, counted apart), ``POST /v1/decisions/{id}/outcome`` on a decision without one;
   - analytics/export (5 %): ``/v1/analytics/basis`` by month (alone or grouped by owner),
     ``/v1/analytics/summary``, ``/v1/analytics/accountability``, and ``GET /v1/exports/decisions`` of the
     last 10 s (``updated_since``), the streamed body read to its end;
3. reads the database directly (asyncpg): every decision a 201 acknowledged is stored, and no decision is
   stored that was not acknowledged (but for creates that got no answer at all, none in a clean run);
   every acknowledged correction and outcome review is there too;
4. prints the table, writes ``bench/results/soak.json``, stops the service, drops the database.

Any 5xx, transport error, timeout or other unexpected status is an error. Exit status 1 when the error
rate reaches 0.1 % or acknowledged and stored differ. Error rate and the stored check cover the warm-up
too; rates, latencies, CPU and memory cover the measured window. The machine has 2 shared cores: the
service, PostgreSQL and this client share them, so latencies are those of a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from common import (
    CHANNELS,
    DEFAULT_PG,
    OUTCOMES,
    RESULTS,
    Decisions,
    Organisation,
    Service,
    asyncpg_dsn,
    git_state,
    log,
    machine_note,
    organisation,
    percentile,
    register,
    rss_kib,
    service,
)
from write import machine_cpu, postgres_cpu, process_cpu

from app.core.types import format_utc
from app.integrity.signing import new_private_key_b64

ERROR_RATE_LIMIT = 0.001  # the check: fewer than 0.1 % of requests may fail

# Operation → (category, weight in %). The weights add up to 70 / 25 / 5.
MIX: dict[str, tuple[str, float]] = {
    "get_decision": ("read", 35.0),
    "list_decisions": ("read", 20.0),  # + list_decisions_next, half the time, by the same draw
    "list_kpis": ("read", 7.5),
    "list_strategies": ("read", 7.5),
    "create_decision": ("write", 20.0),
    "patch_decision": ("write", 3.0),
    "record_outcome": ("write", 2.0),
    "analytics_basis": ("analytics", 1.0),
    "analytics_basis_by_owner": ("analytics", 0.5),
    "analytics_summary": ("analytics", 1.0),
    "analytics_accountability": ("analytics", 1.0),
    "export_decisions": ("analytics", 1.5),
}
CATEGORY = {name: category for name, (category, _) in MIX.items()} | {"list_decisions_next": "read"}
ORDER = [
    "get_decision", "list_decisions", "list_decisions_next", "list_kpis", "list_strategies", "create_decision",
    "patch_decision", "record_outcome", "analytics_basis", "analytics_basis_by_owner", "analytics_summary",
    "analytics_accountability", "export_decisions",
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The clients
# ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw. Latencies and counts of the measured window; errors and acknowledgements of all."""

    recording: bool = False
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # op → ok/412/error
    all_requests: int = 0
    all_errors: Counter[str] = field(default_factory=Counter)  # "op status" → count, warm-up included
    error_samples: list[dict[str, Any]] = field(default_factory=list)  # up to 3 per operation and status
    # Writes: what the service acknowledged, and creates that got no answer (they may or may not be stored).
    acknowledged: list[str] = field(default_factory=list)
    refused_creates: int = 0
    unanswered_creates: int = 0
    patched: dict[str, int] = field(default_factory=dict)  # id → highest acknowledged revision
    reviewed: set[str] = field(default_factory=set)


@dataclass
class Client:
    """One of the concurrent clients: its own RNG and its own keep-alive connection."""

    rng: random.Random
    http: httpx.AsyncClient


class Soak:
    def __init__(
        self, clients: Sequence[httpx.AsyncClient], org: Organisation, generator: Decisions, ids: Sequence[str],
        args: Any,
    ) -> None:  # fmt: skip
        self.org, self.generator, self.args = org, generator, args
        self.clients = [Client(random.Random(args.seed * 1000 + n), http) for n, http in enumerate(clients)]
        self.tally = Tally()
        self.ids = list(ids)  # every decision known to exist: preloaded and acknowledged
        self.etags: dict[str, str] = {}  # id → ETag as last read (may be stale by now: then 412)
        self.etag_ids: list[str] = []
        unreviewed = list(ids)
        random.Random(args.seed).shuffle(unreviewed)
        self.unreviewed = unreviewed  # decisions without an outcome review, popped one at a time
        self.next_index = args.preload  # the generator's index (its external_ref) for the next create
        weights = [w for _, w in MIX.values()]
        self.ops, self.cumulative = list(MIX), [sum(weights[: i + 1]) for i in range(len(weights))]
        self.owners = [m.handle for m in org.members]
        self.owner_weights = [m.activity for m in org.members]
        self.stop_at = 0.0

    # -- one request, timed and classified -------------------------------------------------------

    async def call(
        self, c: Client, op: str, method: str, url: str, *, ok: int = 200, expected: tuple[int, ...] = (),
        stream: bool = False, **kwargs: Any,
    ) -> httpx.Response | None:  # fmt: skip
        tally = self.tally
        started = time.perf_counter()
        body = b""
        try:
            if stream:
                async with c.http.stream(method, url, **kwargs) as response:
                    async for chunk in response.aiter_raw():  # read to the end, as a consumer would
                        if response.status_code != ok and len(body) < 2000:
                            body += chunk
            else:
                response = await c.http.request(method, url, **kwargs)
                body = response.content
        except httpx.HTTPError as exc:
            elapsed = time.perf_counter() - started
            self._count(op, "error", None, f"{type(exc).__name__}: {exc}", elapsed)
            return None
        elapsed = time.perf_counter() - started
        status = response.status_code
        if status == ok:
            label = "ok"
        elif status in expected:
            label = str(status)
        else:
            label = "error"
        self._count(op, label, status, body[:500].decode(errors="replace") if label == "error" else None, elapsed)
        if tally.recording:
            tally.latencies[op].append(elapsed)
        return response

    def _count(self, op: str, label: str, status: int | None, detail: str | None, elapsed: float) -> None:
        tally = self.tally
        tally.all_requests += 1
        if tally.recording:
            tally.outcomes[op][label] += 1
        if label == "error":
            key = f"{op} {status or 'transport'}"
            tally.all_errors[key] += 1
            if tally.all_errors[key] <= 3:  # the first three of each kind
                tally.error_samples.append(
                    {"op": op, "status": status, "detail": detail, "ms": round(elapsed * 1000, 1),
                     "during": "measured" if tally.recording else "warm-up"}
                )  # fmt: skip

    # -- the operations ---------------------------------------------------------------------------

    async def get_decision(self, c: Client) -> None:
        decision_id = c.rng.choice(self.ids)
        response = await self.call(c, "get_decision", "GET", f"/v1/decisions/{decision_id}")
        if response is not None and response.status_code == 200:
            if decision_id not in self.etags:
                self.etag_ids.append(decision_id)
            self.etags[decision_id] = response.headers["etag"]

    async def list_decisions(self, c: Client) -> None:
        owner = c.rng.choices(self.owners, self.owner_weights)[0]
        filters = c.rng.choice(
            ({"owner": owner}, {"channel": c.rng.choice(CHANNELS)},
             {"owner": owner, "basis_class": c.rng.choice(("data", "emotion"))},
             {"channel": c.rng.choice(CHANNELS), "basis_class": c.rng.choice(("data", "emotion"))})
        )  # fmt: skip
        params = {**filters, "limit": 50}
        response = await self.call(c, "list_decisions", "GET", "/v1/decisions", params=params)
        if response is None or response.status_code != 200 or c.rng.random() < 0.5:
            return
        cursor = response.json()["next_cursor"]
        if cursor:
            await self.call(c, "list_decisions_next", "GET", "/v1/decisions", params={**params, "cursor": cursor})

    async def list_kpis(self, c: Client) -> None:
        await self.call(c, "list_kpis", "GET", "/v1/kpis")

    async def list_strategies(self, c: Client) -> None:
        await self.call(c, "list_strategies", "GET", "/v1/strategies")

    async def create_decision(self, c: Client) -> None:
        generator = self.generator
        index, self.next_index = self.next_index, self.next_index + 1
        decided_at = self.org.start + (self.org.end - self.org.start) * c.rng.random()
        body = generator.payload_at(index, decided_at)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = await self.call(c, "create_decision", "POST", "/v1/decisions", ok=201, json=body, headers=headers)
        if response is None:
            self.tally.unanswered_creates += 1
        elif response.status_code == 201:
            decision_id = response.json()["id"]
            self.tally.acknowledged.append(decision_id)
            self.ids.append(decision_id)
            self.unreviewed.append(decision_id)
        else:
            self.tally.refused_creates += 1

    async def patch_decision(self, c: Client) -> None:
        if not self.etag_ids:
            return await self.get_decision(c)
        decision_id = c.rng.choice(self.etag_ids)
        body = {
            "title": f"Corrected: {c.rng.choice(('budget', 'timing', 'scope'))} of campaign {uuid.uuid4().hex[:8]}",
            "edit_reason": "The first title named the wrong campaign.",
            "edited_by": c.rng.choice(self.owners),
        }
        response = await self.call(
            c, "patch_decision", "PATCH", f"/v1/decisions/{decision_id}", json=body, expected=(412,),
            headers={"If-Match": self.etags[decision_id]},
        )  # fmt: skip
        if response is not None and response.status_code == 200:
            self.etags[decision_id] = response.headers["etag"]
            revision = response.json()["revision"]
            self.tally.patched[decision_id] = max(revision, self.tally.patched.get(decision_id, 0))
        elif response is not None and response.status_code == 412:
            self.etags.pop(decision_id, None)
            self.etag_ids.remove(decision_id)

    async def record_outcome(self, c: Client) -> None:
        if not self.unreviewed:
            return await self.get_decision(c)
        decision_id = self.unreviewed.pop()
        body = {
            "result": c.rng.choice(OUTCOMES),
            "reviewed_by": c.rng.choice(self.owners),
            "notes": "Reviewed in the monthly meeting.",
            "actual_value": round(c.rng.uniform(0, 1000), 2),
        }
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        url = f"/v1/decisions/{decision_id}/outcome"
        response = await self.call(c, "record_outcome", "POST", url, ok=201, json=body, headers=headers)
        if response is not None and response.status_code == 201:
            self.tally.reviewed.add(decision_id)

    async def analytics_basis(self, c: Client) -> None:
        await self.call(c, "analytics_basis", "GET", "/v1/analytics/basis", params={"bucket": "month"})

    async def analytics_basis_by_owner(self, c: Client) -> None:
        params = {"bucket": "month", "group_by": "owner"}
        await self.call(c, "analytics_basis_by_owner", "GET", "/v1/analytics/basis", params=params)

    async def analytics_summary(self, c: Client) -> None:
        await self.call(c, "analytics_summary", "GET", "/v1/analytics/summary")

    async def analytics_accountability(self, c: Client) -> None:
        await self.call(c, "analytics_accountability", "GET", "/v1/analytics/accountability")

    async def export_decisions(self, c: Client) -> None:
        since = format_utc(datetime.now(UTC) - timedelta(seconds=10))
        params = {"updated_since": since}
        await self.call(c, "export_decisions", "GET", "/v1/exports/decisions", params=params, stream=True)

    # -- the clients ------------------------------------------------------------------------------

    async def client_loop(self, c: Client) -> None:
        total = self.cumulative[-1]
        while time.perf_counter() < self.stop_at:
            draw = c.rng.random() * total
            op = next(name for name, edge in zip(self.ops, self.cumulative, strict=True) if draw < edge)
            await getattr(self, op)(c)

    async def run(self, seconds: float, recording: bool) -> float:
        self.tally.recording = recording
        started = time.perf_counter()
        self.stop_at = started + seconds
        await asyncio.gather(*(self.client_loop(c) for c in self.clients))
        return time.perf_counter() - started  # the last requests in flight included


# ---------------------------------------------------------------------------------------------
# Meters: server processes' CPU and memory, PostgreSQL's CPU, this process's CPU
# ---------------------------------------------------------------------------------------------


class Meter:
    """CPU of the service (supervisor + workers), PostgreSQL, this client and the machine between start and
    stop; every worker's VmRSS at start, each second, and at stop."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.pids = svc.pids()
        self.rss: list[tuple[float, dict[int, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _rss(self) -> dict[int, int]:
        return {pid: rss_kib(pid) for pid in self.pids}

    def _read(self) -> dict[str, float]:
        usage = os.times()
        busy, total = machine_cpu()
        return {
            "server": sum(process_cpu(pid) for pid in self.pids),
            "postgres": postgres_cpu(),
            "client": usage.user + usage.system,
            "busy": busy,
            "total": total,
            "wall": time.perf_counter(),
        }

    def _sample(self) -> None:
        started = time.perf_counter()
        while not self._stop.wait(1.0):
            self.rss.append((time.perf_counter() - started, self._rss()))

    def start(self) -> Meter:
        self.rss_start = self._rss()
        self.begin = self._read()
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        end = self._read()
        self._stop.set()
        self._thread.join()
        self.rss_end = self._rss()
        wall = end["wall"] - self.begin["wall"]
        cores = os.cpu_count() or 1
        per_pid = {
            str(pid): {
                "role": "supervisor" if pid == self.svc.pid else "worker",
                "rss_start_mib": self.rss_start[pid] / 1024,
                "rss_end_mib": self.rss_end[pid] / 1024,
                "rss_max_mib": max([self.rss_start[pid], self.rss_end[pid], *(s[pid] for _, s in self.rss)]) / 1024,
            }
            for pid in self.pids
        }
        return {
            "wall_s": wall,
            "server_cpu_cores": (end["server"] - self.begin["server"]) / wall,
            "postgres_cpu_cores": (end["postgres"] - self.begin["postgres"]) / wall,
            "client_cpu_cores": (end["client"] - self.begin["client"]) / wall,
            "machine_busy_cores": (end["busy"] - self.begin["busy"])
            / max(1e-9, end["total"] - self.begin["total"])
            * cores,
            "server_cpu_s": end["server"] - self.begin["server"],
            "processes": per_pid,
            "rss_samples_mib": [[round(t, 1), *(round(s[pid] / 1024, 1) for pid in self.pids)] for t, s in self.rss],
            "workers_same_at_end": sorted(self.svc.pids()) == sorted(self.pids),
        }


# ---------------------------------------------------------------------------------------------
# Set-up and the stored check
# ---------------------------------------------------------------------------------------------


def preload(svc: Service, org: Organisation, count: int, seed: int) -> list[str]:
    """``count`` decisions of the generator, through ``POST /v1/decisions/batch`` (1,000 a request)."""
    bodies = list(Decisions(org, count, seed=seed, external_refs=True).payloads())
    ids: list[str] = []
    with svc.client(timeout=300) as client:
        for start in range(0, len(bodies), 1000):
            response = client.post(
                "/v1/decisions/batch",
                json={"items": bodies[start : start + 1000]},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code != 201:
                raise RuntimeError(f"batch -> {response.status_code} {response.text[:500]}")
            ids += [item["id"] for item in response.json()["items"]]
    return ids


async def stored_check(url: str, preloaded: Sequence[str], tally: Tally) -> dict[str, Any]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch("SELECT id, revision, outcome_recorded_at IS NOT NULL AS reviewed FROM decision")
    finally:
        await connection.close()
    stored = {str(r["id"]): r for r in rows}
    new = set(stored) - set(preloaded)
    acknowledged = set(tally.acknowledged)
    missing = sorted(acknowledged - set(stored))
    unacknowledged = sorted(new - acknowledged)
    lost_edits = sorted(
        i for i, revision in tally.patched.items() if i not in stored or stored[i]["revision"] < revision
    )
    lost_reviews = sorted(i for i in tally.reviewed if i not in stored or not stored[i]["reviewed"])
    missing_preload = len(set(preloaded) - set(stored))
    ok = (
        not missing
        and not lost_edits
        and not lost_reviews
        and not missing_preload
        and len(unacknowledged) <= tally.unanswered_creates
        and len(acknowledged) == len(tally.acknowledged)
    )
    return {
        "acknowledged_creates": len(tally.acknowledged),
        "acknowledged_distinct_ids": len(acknowledged),
        "stored_new": len(new),
        "acknowledged_not_stored": len(missing),
        "stored_not_acknowledged": len(unacknowledged),
        "creates_without_answer": tally.unanswered_creates,
        "creates_refused": tally.refused_creates,
        "preloaded_missing": missing_preload,
        "acknowledged_edits": len(tally.patched),
        "acknowledged_edits_not_stored": len(lost_edits),
        "acknowledged_reviews": len(tally.reviewed),
        "acknowledged_reviews_not_stored": len(lost_reviews),
        "examples": {"missing": missing[:5], "unacknowledged": unacknowledged[:5], "lost_edits": lost_edits[:5]},
        "ok": ok,
    }


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def summarise(tally: Tally, elapsed: float) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for op in ORDER:
        samples, outcomes = tally.latencies.get(op, []), tally.outcomes.get(op, Counter())
        count = sum(outcomes.values())
        if not count:
            continue
        ops[op] = {
            "category": CATEGORY[op],
            "requests": count,
            "ok": outcomes["ok"],
            "expected_412": outcomes["412"],
            "errors": outcomes["error"],
            "p50_ms": percentile(samples, 50) * 1000,
            "p95_ms": percentile(samples, 95) * 1000,
            "p99_ms": percentile(samples, 99) * 1000,
            "max_ms": max(samples) * 1000 if samples else float("nan"),
        }
    categories: dict[str, Any] = {}
    total = sum(o["requests"] for o in ops.values())
    for category in ("read", "write", "analytics"):
        members = [op for op, o in ops.items() if o["category"] == category]
        samples = [s for op in members for s in tally.latencies[op]]
        requests = sum(ops[op]["requests"] for op in members)
        categories[category] = {
            "requests": requests,
            "share": requests / total if total else 0.0,
            "errors": sum(ops[op]["errors"] for op in members),
            "p50_ms": percentile(samples, 50) * 1000,
            "p95_ms": percentile(samples, 95) * 1000,
            "p99_ms": percentile(samples, 99) * 1000,
        }
    errors = sum(o["errors"] for o in ops.values())
    all_errors = sum(tally.all_errors.values())
    return {
        "seconds": elapsed,
        "requests": total,
        "requests_per_s": total / elapsed,
        "errors": errors,
        "error_rate": errors / total if total else 1.0,
        "expected_412": sum(o["expected_412"] for o in ops.values()),
        "all_requests_with_warmup": tally.all_requests,
        "all_errors_with_warmup": all_errors,
        "error_rate_with_warmup": all_errors / tally.all_requests if tally.all_requests else 1.0,
        "errors_by_op_status": dict(tally.all_errors),
        "operations": ops,
        "categories": categories,
    }


def table(summary: dict[str, Any], stored: dict[str, Any], meter: dict[str, Any], config: dict[str, Any]) -> str:
    header = ("operation", "requests", "errors", "412", "p50 ms", "p95 ms", "p99 ms", "max ms")
    rows = [header]
    for op, o in summary["operations"].items():
        rows.append(
            (f"{o['category']:<9} {op}", f"{o['requests']:,}", str(o["errors"]), str(o["expected_412"] or ""),
             f"{o['p50_ms']:.1f}", f"{o['p95_ms']:.1f}", f"{o['p99_ms']:.1f}", f"{o['max_ms']:.0f}")
        )  # fmt: skip
    for name, c in summary["categories"].items():
        rows.append(
            (f"all {name} ({c['share']:.1%})", f"{c['requests']:,}", str(c["errors"]), "", f"{c['p50_ms']:.1f}",
             f"{c['p95_ms']:.1f}", f"{c['p99_ms']:.1f}", "")
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 3, "-" * len(lines[0]))
    worst = max(summary["error_rate"], summary["error_rate_with_warmup"])
    verdict_errors = "ok" if worst < ERROR_RATE_LIMIT else "FAILED"
    verdict_stored = "ok" if stored["ok"] else "FAILED"
    workers = [p for p in meter["processes"].values() if p["role"] == "worker"]
    rss = ", ".join(f"{w['rss_start_mib']:.0f} -> {w['rss_end_mib']:.0f} (max {w['rss_max_mib']:.0f})" for w in workers)
    lines += [
        "",
        f"requests {summary['requests']:,} in {summary['seconds']:.1f} s = {summary['requests_per_s']:,.0f} req/s;"
        f" errors {summary['errors']} = {summary['error_rate']:.3%} (< 0.1 %: {verdict_errors});"
        f" 412 on a stale ETag {summary['expected_412']}",
        f"with the warm-up: {summary['all_requests_with_warmup']:,} requests, {summary['all_errors_with_warmup']}"
        f" errors {summary['errors_by_op_status'] or ''}",
        f"acknowledged creates {stored['acknowledged_creates']:,}, stored {stored['stored_new']:,}:"
        f" {stored['acknowledged_not_stored']} acknowledged not stored, {stored['stored_not_acknowledged']} stored"
        f" not acknowledged ({stored['creates_without_answer']} without an answer): {verdict_stored}",
        f"acknowledged corrections {stored['acknowledged_edits']} ({stored['acknowledged_edits_not_stored']} not"
        f" stored), outcome reviews {stored['acknowledged_reviews']} ({stored['acknowledged_reviews_not_stored']}"
        " not stored)",
        f"worker RSS MiB start -> end: {rss}; same worker processes at the end: {meter['workers_same_at_end']}",
        f"CPU, cores: service {meter['server_cpu_cores']:.2f}, PostgreSQL {meter['postgres_cpu_cores']:.2f},"
        f" this client {meter['client_cpu_cores']:.2f}, whole machine {meter['machine_busy_cores']:.2f}"
        f" of {config['machine']['cpus']}",
        f"{config['clients']} clients x {config['seconds']:g} s (+{config['warmup']:g} s warm-up), --workers"
        f" {config['workers']}{''.join(f', {k}={v}' for k, v in config['server_env'].items())},"
        f" {config['preload']:,} decisions preloaded, seed {config['seed']},"
        f" load average before {config['loadavg_before']}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured load (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured load first (default 5)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent keep-alive clients (default 50)")
    parser.add_argument("--workers", type=int, default=2, help="decision-log serve --workers (default 2)")
    parser.add_argument("--preload", type=int, default=5000, help="decisions posted before the load (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="the operations' and the bodies' RNG seed (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per request, seconds (default 30)")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the service, e.g. DECISION_LOG_POOL_SIZE=25 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server, no database")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--output", type=Path, default=RESULTS / "soak.json")
    return parser.parse_args()


async def load(
    svc: Service, org: Organisation, ids: list[str], args: argparse.Namespace
) -> tuple[Soak, float, dict[str, Any]]:
    # One AsyncClient (one keep-alive connection) per client: a shared pool of 50 costs httpcore more CPU.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=svc.server.base_url,
                    headers={"Authorization": svc.auth},
                    timeout=args.timeout,
                    limits=limits,
                )
            )
            for _ in range(args.clients)
        ]
        soak = Soak(clients, org, Decisions(org, 1, seed=args.seed + 100, external_refs=True), ids, args)
        if args.warmup > 0:
            log(f"warm-up: {args.clients} clients for {args.warmup:g} s")
            await soak.run(args.warmup, recording=False)
        log(f"soak: {args.clients} clients for {args.seconds:g} s")
        meter = Meter(svc).start()
        elapsed = await soak.run(args.seconds, recording=True)
        measured = meter.stop()
    return soak, elapsed, measured


def main() -> int:
    args = parse_args()
    org = organisation()
    load_before = machine_note()
    server_env = dict(item.split("=", 1) for item in args.server_env)
    env = {"DECISION_LOG_SIGNING_KEY": new_private_key_b64(), **server_env}
    with service(
        "postgresql", pg=args.pg, prefix="bench_soak", env=env, keep=args.keep_db, workers=args.workers
    ) as svc:
        log(f"service pids {svc.pids()} (supervisor first)")
        with svc.client() as client:
            register(client, org)
        started = time.perf_counter()
        ids = preload(svc, org, args.preload, args.seed)
        log(f"preloaded {len(ids):,} decisions through /v1/decisions/batch ({time.perf_counter() - started:.1f} s)")
        try:
            import uvloop

            soak, elapsed, measured = uvloop.run(load(svc, org, ids, args))
            loop = "uvloop"
        except ImportError:
            soak, elapsed, measured = asyncio.run(load(svc, org, ids, args))
            loop = "asyncio"
        stored = asyncio.run(stored_check(svc.url, ids, soak.tally))
    summary = summarise(soak.tally, elapsed)
    config = {
        "seconds": args.seconds,
        "warmup": args.warmup,
        "clients": args.clients,
        "workers": args.workers,
        "preload": args.preload,
        "seed": args.seed,
        "server_env": server_env,
        "mix_percent": {op: w for op, (_, w) in MIX.items()},
        "client": f"httpx {httpx.__version__} AsyncClient on {loop}, in the bench process",
        "machine": machine_note(),
        "loadavg_before": load_before["loadavg"],
        "python": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git": git_state(),
    }
    # The check covers every request, the warm-up's included; the figures, the measured window.
    error_rate = max(summary["error_rate"], summary["error_rate_with_warmup"])
    passed = error_rate < ERROR_RATE_LIMIT and stored["ok"]
    report = {
        "config": config,
        "passed": passed,
        "summary": summary,
        "stored": stored,
        "meters": measured,
        "error_samples": soak.tally.error_samples,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(summary, stored, measured, config))
    for sample in soak.tally.error_samples[:5]:
        log(f"error: {sample}")
    log(f"written {args.output}")
    if not passed:
        log("FAILED: " + ("error rate >= 0.1 %" if error_rate >= ERROR_RATE_LIMIT else "stored check"))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
