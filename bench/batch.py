"""Batch ingestion on PostgreSQL: ``POST /v1/decisions/batch`` next to asyncpg writing the same rows, same run.

    .venv/bin/python bench/batch.py                   # or: make bench-batch
    .venv/bin/python bench/batch.py --rows 20000 --rounds 3 --clients 4
    .venv/bin/python bench/batch.py --py-spy /tmp/pyspy/bin/py-spy     # + an unmeasured, profiled API pass

What one run does:

1. creates a throw-away database (``--pg``, trust auth), migrates it, creates a write key and starts the
   service (``decision-log serve``, one worker, or ``--workers N``); registers 50 people, 8 data sources, 6 KPIs
   and 2 strategies with versions through the API;
2. generates ``--rows`` (100,000) realistic decisions (bench/common.py: evidence, budgets, strategies,
   KPIs, expected outcomes, tags, external refs) and, before anything is timed, encodes them as
   ``--batch`` (1,000) item bodies and as the rows the service writes for them;
3. for each round, in alternating order, starting each method on an empty table (TRUNCATE + CHECKPOINT):
   - **api**: ``--clients`` (3) concurrent keep-alive clients post the batches, each with its own
     ``Idempotency-Key`` (validation, reference checks, classification, the first revision of every
     decision and the stored idempotent response all included);
   - **executemany**: asyncpg ``executemany`` of the same decision rows, one transaction per batch, on
     ``--clients`` connections: the figure the target is set against;
   - **copy**: asyncpg ``copy_records_to_table``, same batches and connections;
   - **same_writes**: asyncpg writing everything the API writes per batch (the idempotency record with a
     response body of the same size, the decisions and their revisions): the driver's floor for the API;
4. checks every method wrote the same rows (the columns the service fills, id and times apart), prints
   the table, writes ``bench/results/batch.json``, stops the service and drops the database.

Every method writes into the same ``decision`` table, whose rollup triggers (app/analytics/models.py) run
for executemany's and copy's rows as for the API's: executemany runs the statement once per row, so it pays
the statement-level trigger once per row, the API once per batch.

Target: api ≥ 25 % of the executemany rate. The machine has 2 cores shared with PostgreSQL and other
jobs: read the ratios, and the CPU per 1,000 rows (from /proc), not the absolute rates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import signal
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import uuid_utils.compat as uuid_compat
from common import (
    CALLER,
    DEFAULT_PG,
    RESULTS,
    CpuMeter,
    Decisions,
    columns,
    git_state,
    log,
    machine_note,
    organisation,
    percentile,
    pg_record,
    register,
    service,
)

METHODS = ("api", "executemany", "copy", "same_writes")
REVISION_COLUMNS = (
    "id", "decision_id", "revision", "kind", "changed_at", "changed_by", "recorded_by", "changes", "snapshot",
)  # fmt: skip
INSERT_REVISION = (
    f"INSERT INTO decision_revision ({', '.join(REVISION_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i + 1}' for i in range(len(REVISION_COLUMNS)))})"
)
CLAIM = (
    "INSERT INTO idempotency_record (api_key_id, key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT DO NOTHING RETURNING key"
)
STORE = (
    "UPDATE idempotency_record SET response_status = 201, response_headers = $3, response_body = $4"
    " WHERE api_key_id = $1 AND key = $2"
)
# Columns the methods may fill differently; every other one must match between them.
PER_ROW = frozenset({"id", "recorded_at", "updated_at", "recorded_by"})


# ---------------------------------------------------------------------------------------------
# Work prepared before anything is timed
# ---------------------------------------------------------------------------------------------


class Workload:
    def __init__(self, args: argparse.Namespace, org: Any) -> None:
        from app.decisions.service import to_read
        from app.demo.plan import stored_row

        started = time.perf_counter()
        bodies = list(Decisions(org, args.rows, seed=args.seed, external_refs=True).payloads())
        self.rows = len(bodies)
        self.batches = [bodies[i : i + args.batch] for i in range(0, len(bodies), args.batch)]
        self.payloads = [
            json.dumps({"items": batch}, ensure_ascii=False, separators=(",", ":")).encode() for batch in self.batches
        ]
        now = datetime.now(UTC)
        references = org.references()
        values = [[stored_row(body, references, now, CALLER) for body in batch] for batch in self.batches]
        self.columns = columns(values[0][0])
        self.insert = (
            f"INSERT INTO decision ({', '.join(self.columns)})"
            f" VALUES ({', '.join(f'${i + 1}' for i in range(len(self.columns)))})"
        )
        self.records = [[pg_record(v, self.columns) for v in batch] for batch in values]
        # What the API also writes per batch: each decision's first revision (its snapshot is the
        # decision as answered) and the stored response, the decisions as answered.
        self.revisions: list[list[tuple[Any, ...]]] = []
        self.responses: list[bytes] = []
        for batch in values:
            snapshots = [to_read(v).model_dump_json() for v in batch]
            self.revisions.append(
                [
                    (uuid_compat.uuid7(), v["id"], 1, "created", now, CALLER.name, CALLER.attribution, "{}", snapshot)
                    for v, snapshot in zip(batch, snapshots, strict=True)
                ]
            )
            self.responses.append(('{"items":[' + ",".join(snapshots) + "]}").encode())
        # Bodies whose rows are compared between the methods, found by their decided_at (unique).
        picks = sorted({0, len(bodies) // 2, len(bodies) - 1})
        self.sample_decided_at = [bodies[i]["decided_at"] for i in picks]
        self.payload_bytes = [len(p) for p in self.payloads]
        self.prepare_s = time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# The methods
# ---------------------------------------------------------------------------------------------


RETRIED = (429, 503)  # answers a client retries after their Retry-After
MAX_RETRIES = 20


async def run_api(base_url: str, auth: str, payloads: list[bytes], clients: int) -> dict[str, Any]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for payload in payloads:
        queue.put_nowait(payload)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures: list[str] = []
    headers = {"Authorization": auth, "Content-Type": "application/json"}

    retries: dict[int, int] = {}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120.0) as http:
            while not queue.empty():
                payload = queue.get_nowait()
                key = {"Idempotency-Key": str(uuid.uuid4())}
                started = time.perf_counter()
                # As a client of the service should: a 503 or 429 is retried after its Retry-After, with the same
                # idempotency key (so a batch that was written after all is answered, not written twice).
                for _ in range(MAX_RETRIES):
                    response = await http.post("/v1/decisions/batch", content=payload, headers=key)
                    if response.status_code not in RETRIED:
                        break
                    retries[response.status_code] = retries.get(response.status_code, 0) + 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != 201 and len(failures) < 3:
                    failures.append(f"{response.status_code} {response.text[:500]}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return {"statuses": statuses, "retries": retries, "failures": failures, "latencies": latencies}


async def run_driver(dsn: str, work: Workload, method: str, clients: int) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(work.records)):
        queue.put_nowait(index)
    latencies: list[float] = []
    api_key_id = uuid.uuid4()
    response_headers = json.dumps({"content-type": "application/json"})

    async def worker(connection: Any) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            async with connection.transaction():
                if method == "executemany":
                    await connection.executemany(work.insert, work.records[index])
                elif method == "copy":
                    records = work.records[index]
                    await connection.copy_records_to_table("decision", records=records, columns=work.columns)
                else:  # same_writes: what one API batch writes
                    key, now = str(uuid.uuid4()), datetime.now(UTC)
                    await connection.fetchval(CLAIM, api_key_id, key, "0" * 64, now, now + timedelta(hours=24))
                    await connection.executemany(work.insert, work.records[index])
                    await connection.executemany(INSERT_REVISION, work.revisions[index])
                    await connection.execute(STORE, api_key_id, key, response_headers, work.responses[index])
            latencies.append(time.perf_counter() - started)

    try:
        # Warm the connections' statement caches, as the service's pool is warm.
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
        connections = [await pool.acquire() for _ in range(clients)]
        try:
            await asyncio.gather(*(worker(c) for c in connections))
        finally:
            for connection in connections:
                await pool.release(connection)
    finally:
        await pool.close()
    return {"statuses": {}, "failures": [], "latencies": latencies}


async def reset(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE decision_revision, decision, idempotency_record CASCADE")  # and review_due
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def written(dsn: str, work: Workload) -> dict[str, Any]:
    connection = await asyncpg.connect(dsn)
    try:
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM decision) AS decisions,"
            " (SELECT count(*) FROM decision_revision) AS revisions,"
            " (SELECT count(*) FROM idempotency_record) AS idempotency_records"
        )
        times = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in work.sample_decided_at]
        rows = await connection.fetch(
            f"SELECT {', '.join(work.columns)} FROM decision"
            " WHERE decided_at = ANY($1::timestamptz[]) ORDER BY decided_at",
            times,
        )
    finally:
        await connection.close()
    return {"counts": dict(counts), "sample": [dict(r) for r in rows]}


def differences(reference: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, str]:
    """Columns whose values differ from the API's rows, with the first pair of values."""
    if len(reference) != len(other):
        return {"<rows>": f"{len(reference)} sample rows from the API, {len(other)} here"}
    found: dict[str, str] = {}
    for a, b in zip(reference, other, strict=True):
        for column in a:
            if column not in PER_ROW and a[column] != b[column] and column not in found:
                found[column] = f"api {a[column]!r:.200} / here {b[column]!r:.200}"
    return found


def phase(method: str, service_: Any, work: Workload, clients: int) -> dict[str, Any]:
    dsn = service_.url
    asyncio.run(reset(dsn))
    meter = CpuMeter(server_pids=service_.pids()).start()
    if method == "api":
        result = asyncio.run(run_api(service_.server.base_url, service_.auth, work.payloads, clients))
    else:
        result = asyncio.run(run_driver(dsn, work, method, clients))
    cpu = meter.stop()
    state = asyncio.run(written(dsn, work))
    rows = state["counts"]["decisions"]
    per_k = 1000 / max(1, rows)
    latencies = result.pop("latencies")
    out = {
        "method": method,
        "rows": rows,
        "counts": state["counts"],
        "seconds": cpu["wall_s"],
        "rows_per_s": rows / cpu["wall_s"],
        "batch_latency_ms": {
            "p50": percentile(latencies, 50) * 1000,
            "p95": percentile(latencies, 95) * 1000,
            "max": max(latencies) * 1000,
        },
        "server_cpu_s_per_1000_rows": cpu["server_cpu_s"] * per_k if method == "api" else None,
        "postgres_cpu_s_per_1000_rows": cpu["postgres_cpu_s"] * per_k,
        "bench_cpu_s_per_1000_rows": cpu["bench_cpu_s"] * per_k,
        "server_cores": cpu["server_cpu_s"] / cpu["wall_s"] if method == "api" else None,
        "postgres_cores": cpu["postgres_cpu_s"] / cpu["wall_s"],
        "bench_cores": cpu["bench_cpu_s"] / cpu["wall_s"],
        "machine_busy_cores": cpu["machine_busy_cores"],
        **result,
    }
    out["_sample"] = state["sample"]
    return out


def profile(py_spy: str, service_: Any, work: Workload, clients: int, rows: int) -> str:
    """An unmeasured API pass of ``rows`` under py-spy; returns the summary (bench/profile_write.py's)."""
    from profile_write import parse
    from profile_write import summarise as summarise_profile

    asyncio.run(reset(service_.url))
    output = RESULTS / "profile-batch.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(service_.pid), "--rate", "100", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    count = max(1, rows // len(work.batches[0]))
    asyncio.run(run_api(service_.server.base_url, service_.auth, work.payloads[:count], clients))
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    return summarise_profile(parse(output.read_text().splitlines()), 40) + f"\n(raw stacks: {output})"


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def summarise(runs: dict[str, list[dict[str, Any]]], target: float) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for method, results in runs.items():
        if not results:
            continue

        def median(name: str, results: list[dict[str, Any]] = results) -> float | None:
            values = [r[name] for r in results if r[name] is not None]
            return statistics.median(values) if values else None

        summary[method] = {
            "rows_per_s": median("rows_per_s"),
            "rows_per_s_each_round": [round(r["rows_per_s"]) for r in results],
            "batch_p50_ms": statistics.median(r["batch_latency_ms"]["p50"] for r in results),
            "batch_p95_ms": statistics.median(r["batch_latency_ms"]["p95"] for r in results),
            "server_cpu_s_per_1000_rows": median("server_cpu_s_per_1000_rows"),
            "postgres_cpu_s_per_1000_rows": median("postgres_cpu_s_per_1000_rows"),
            "bench_cpu_s_per_1000_rows": median("bench_cpu_s_per_1000_rows"),
            "machine_busy_cores": median("machine_busy_cores"),
        }
    base = summary["executemany"]["rows_per_s"]
    for method in summary:
        summary[method]["vs_executemany"] = summary[method]["rows_per_s"] / base
    api = summary["api"]
    api["vs_executemany_each_round"] = [
        round(a["rows_per_s"] / e["rows_per_s"], 3) for a, e in zip(runs["api"], runs["executemany"], strict=True)
    ]
    if "same_writes" in summary:
        api["vs_same_writes"] = api["rows_per_s"] / summary["same_writes"]["rows_per_s"]
    summary["target_vs_executemany"] = target
    summary["meets_target"] = api["vs_executemany"] >= target
    return summary


def table(summary: dict[str, Any], config: dict[str, Any]) -> str:
    header = ("method", "rows/s", "vs executemany", "each round", "batch p50 ms", "p95 ms", "server CPU s/1k",
              "PG CPU s/1k", "machine cores")  # fmt: skip
    lines = []
    for method in METHODS:
        s = summary.get(method)
        if s is None:
            continue
        lines.append(
            (
                method,
                f"{s['rows_per_s']:,.0f}",
                f"{s['vs_executemany']:.1%}",
                " ".join(f"{x:,}" for x in s["rows_per_s_each_round"]),
                f"{s['batch_p50_ms']:,.0f}",
                f"{s['batch_p95_ms']:,.0f}",
                f"{s['server_cpu_s_per_1000_rows']:.2f}" if s["server_cpu_s_per_1000_rows"] is not None else "-",
                f"{s['postgres_cpu_s_per_1000_rows']:.3f}",
                f"{s['machine_busy_cores']:.2f}",
            )
        )
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]  # fmt: skip
    api = summary["api"]
    verdict = "meets" if summary["meets_target"] else "MISSES"
    out.append(
        f"target: api >= {summary['target_vs_executemany']:.0%} of executemany -> {verdict}"
        f" ({api['vs_executemany']:.1%})"
    )
    if "vs_same_writes" in api:
        out.append(
            f"api vs asyncpg doing the same writes (decisions + revisions + idempotency): {api['vs_same_writes']:.1%}"
        )
    out.append(
        f"{config['rows']:,} rows in batches of {config['batch']:,} ({config['payload_kib_mean']:.0f} KiB a body, "
        f"largest {config['payload_kib_max']:.0f} KiB), {config['clients']} clients, "
        f"{config['workers']} server worker(s), {config['rounds']} round(s), "
        f"{config['machine']['cpus']} CPUs, load average {config['machine']['loadavg']}"
    )
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="decisions per request (the API's maximum is 1,000)")
    parser.add_argument("--clients", type=int, default=3, help="concurrent API clients / driver connections")
    parser.add_argument("--workers", type=int, default=1, help="`decision-log serve --workers N`")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds of every method")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", type=float, default=0.25, help="api / executemany target")
    parser.add_argument("--py-spy", help="path to py-spy: adds an unmeasured, profiled API pass")
    parser.add_argument("--profile-rows", type=int, default=20_000)
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the service, e.g. DECISION_LOG_ANALYTICS_ROLLUPS=false (repeatable)",
    )  # fmt: skip
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server, no database")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "batch.json")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    methods = [m for m in args.methods.split(",") if m]
    if not {"api", "executemany"} <= set(methods) or not set(methods) <= set(METHODS):
        raise SystemExit(f"--methods must include api and executemany, from {METHODS}")
    org = organisation()
    log(f"generating and encoding {args.rows:,} decisions (untimed)")
    work = Workload(args, org)
    log(
        f"  {work.prepare_s:.1f} s; {len(work.payloads)} bodies,"
        f" {statistics.fmean(work.payload_bytes) / 1024:.0f} KiB each on average"
    )
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    checks: dict[str, Any] = {}
    load_before = machine_note()
    server_env = dict(item.split("=", 1) for item in args.server_env)
    with service(
        "postgresql", pg=args.pg, prefix="bench_batch", env=server_env, keep=args.keep_db, workers=args.workers
    ) as svc:
        with svc.client() as client:
            register(client, org)
        # Warm-up, unmeasured: the service's pools, statement caches and imports; the driver's too.
        asyncio.run(run_api(svc.server.base_url, svc.auth, work.payloads[:2], args.clients))
        reference: list[dict[str, Any]] | None = None
        for round_no in range(args.rounds):
            order = methods if round_no % 2 == 0 else list(reversed(methods))
            for method in order:
                result = phase(method, svc, work, args.clients)
                sample = result.pop("_sample")
                if reference is None and method == "api":
                    reference = sample
                    checks["api_sample"] = len(sample)
                if reference is not None and method != "api":
                    checks[f"differences_{method}"] = differences(reference, sample)
                runs[method].append(result)
                log(
                    f"round {round_no + 1}/{args.rounds} {method}: {result['rows']:,} rows in {result['seconds']:.1f} s"
                    f" = {result['rows_per_s']:,.0f} rows/s; batch p50 {result['batch_latency_ms']['p50']:.0f} ms;"
                    f" statuses {result['statuses'] or '-'}, retried {result.get('retries') or '-'};"
                    f" machine {result['machine_busy_cores']:.2f} cores"
                )
                if result["failures"]:
                    log(f"  failures: {result['failures']}")
                if result["rows"] != work.rows:
                    log(f"  warning: {result['rows']:,} rows written, {work.rows:,} expected")
        profile_text = None
        if args.py_spy:
            log(f"profiling an API pass of {args.profile_rows:,} rows with py-spy (unmeasured)")
            profile_text = profile(args.py_spy, svc, work, args.clients, args.profile_rows)
    for name, found in checks.items():
        if name.startswith("differences_") and found:
            log(f"warning: {name.removeprefix('differences_')} wrote different values in {found}")
    config = {
        "rows": work.rows,
        "batch": args.batch,
        "clients": args.clients,
        "workers": args.workers,
        "rounds": args.rounds,
        "methods": methods,
        "server_env": server_env,
        "payload_kib_mean": statistics.fmean(work.payload_bytes) / 1024,
        "payload_kib_max": max(work.payload_bytes) / 1024,
        "prepare_s": work.prepare_s,
        "machine": machine_note(),
        "loadavg_before": load_before["loadavg"],
        "python": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git": git_state(),
    }
    summary = summarise(runs, args.target)
    report = {"config": config, "summary": summary, "checks": checks, "runs": runs, "profile": profile_text}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(table(summary, config))
    if profile_text:
        print("\nprofile of the service during an API pass (py-spy):\n" + profile_text)
    log(f"written {args.output}")


if __name__ == "__main__":
    main()
