"""The contradiction check on the write path (PostgreSQL), on a database whose statistics do not know its size.

    .venv/bin/python bench/contradictions.py                  # 20,000 decisions, batches of 1,000
    .venv/bin/python bench/contradictions.py --rows 8000 --timeout 60     # wait up to 60 s per statement

A first bulk import into a freshly migrated database runs before anything has analysed the ``decision`` table
(autovacuum analyses it a minute later at best; this machine runs without autovacuum): the planner believes the
table and the partial index of open decisions empty. The check that every write runs in its transaction
(``CONTRADICTING_SQL``, app/decisions/contradictions.py) must then cost what it costs with good statistics.

What one run does: a throw-away database, migrated and never analysed (nothing here analyses it or rebuilds an
index), the service on it (bench/common.py), the demo's organisation registered; then ``--rows`` of the demo
generator's decisions posted to ``POST /v1/decisions/batch`` in ``--batch`` items by one client, one after the
other, each timed (a 503: a statement took longer than the service waits, 2 s unless ``--timeout``). Then the
check itself once more, for the last batch's decisions, under ``EXPLAIN ANALYZE``: its time and the loops of its
scans of ``decision`` (with ``--plain``, the check as one plain join too, on the same rows). Prints the table,
drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid

import asyncpg  # type: ignore[import-untyped]
from common import Decisions, asyncpg_dsn, log, machine_note, organisation, register, service

from app.decisions.contradictions import CONTRADICTING_SQL, OPEN_SQL, WINDOW_DAYS

# The check as one plain join (as it was written before it took steps): its plan is the planner's to choose, a
# nested loop scanning every open decision once per new one when the table is believed empty (``--plain``).
PLAIN_SQL = (
    "SELECT x.id, y.id AS other FROM decision x JOIN decision y ON y.expected_kpi = x.expected_kpi"
    " AND y.expected_direction = CASE x.expected_direction WHEN 'increase' THEN 'decrease'"
    " WHEN 'decrease' THEN 'increase' END AND y.id <> x.id"
    f" AND y.decided_at BETWEEN x.decided_at - interval '{WINDOW_DAYS} days'"
    f" AND x.decided_at + interval '{WINDOW_DAYS} days'"
    f" WHERE x.id = ANY($1::uuid[]) AND {OPEN_SQL.format(t='x')} AND {OPEN_SQL.format(t='y')}"
    " ORDER BY x.id, y.decided_at, y.id"
)


async def explain(dsn: str, ids: list[uuid.UUID], sql: str) -> tuple[float, list[str], float]:
    """``sql`` for ``ids`` under EXPLAIN ANALYZE: milliseconds, the plan's lines, the index's reltuples."""
    connection = await asyncpg.connect(dsn)
    try:
        reltuples = await connection.fetchval(
            "SELECT reltuples FROM pg_class WHERE relname = 'ix_decision_expected_kpi_direction_open'"
        )
        await connection.execute("SET statement_timeout = 0")
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", ids)
    finally:
        await connection.close()
    lines = [row[0] for row in rows]
    took = next(float(m.group(1)) for line in lines if (m := re.search(r"Execution Time: ([\d.]+) ms", line)))
    return took, lines, reltuples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, help="the service's query and statement timeouts (2 s and 10 s)")
    parser.add_argument("--plain", action="store_true", help="also explain the check as one plain join")
    args = parser.parse_args()
    org = organisation()
    bodies = list(Decisions(org, args.rows, seed=args.seed, external_refs=True).payloads())
    payloads = [
        json.dumps({"items": bodies[i : i + args.batch]}, separators=(",", ":")).encode()
        for i in range(0, len(bodies), args.batch)
    ]
    load = machine_note()
    timeouts = ("QUERY", "STATEMENT") if args.timeout else ()
    env = {f"DECISION_LOG_{name}_TIMEOUT_SECONDS": str(args.timeout) for name in timeouts}
    with service("postgresql", prefix="bench_contra", env=env) as svc, svc.client(timeout=600) as client:
        register(client, org)
        times, last_ids = [], []
        for number, payload in enumerate(payloads, 1):
            started = time.perf_counter()
            response = client.post("/v1/decisions/batch", content=payload, headers={"Content-Type": "application/json"})
            took = time.perf_counter() - started
            times.append((took, response.status_code))
            if response.status_code == 201:
                last_ids = [uuid.UUID(item["id"]) for item in response.json()["items"]]
            log(f"batch {number:>3}: {response.status_code} in {took:6.2f} s")
        statements = {"check": CONTRADICTING_SQL, **({"plain join": PLAIN_SQL} if args.plain else {})}
        dsn = asyncpg_dsn(svc.url)
        explained = {name: asyncio.run(explain(dsn, last_ids, sql)) for name, sql in statements.items()}
    print(f"\n{args.rows:,} decisions in batches of {args.batch:,}, one client; load before: {load['loadavg']}")
    reltuples = explained["check"][2]
    print(f"index ix_decision_expected_kpi_direction_open: reltuples {reltuples:.0f} (never analysed)")
    ok = [t for t, status in times if status == 201]
    print(
        f"batches: {len(ok)} of {len(times)} written; seconds per batch: first {times[0][0]:.2f},"
        f" last {times[-1][0]:.2f}, max {max(t for t, _ in times):.2f}, total {sum(t for t, _ in times):.1f}"
    )
    for name, (took, plan, _) in explained.items():
        print(f"the {name} for the last batch's {len(last_ids)} decisions: {took:.1f} ms")
        for line in plan:
            if "decision" in line or "Join" in line or "Loop" in line or "Time" in line:
                print("  " + line.strip())


if __name__ == "__main__":
    main()
