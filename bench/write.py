"""Write benchmark: ``POST /v1/decisions`` against PostgreSQL, next to a raw-driver endpoint, same run.

    .venv/bin/python bench/write.py                 # or: make bench-write
    .venv/bin/python bench/write.py --seconds 30 --rounds 3

What it does, every time from scratch:

1. creates a throw-away database on the local PostgreSQL (``--pg``, trust auth), migrates it, and
   creates a write key;
2. starts the real service (``decision-log serve``, one worker) and the baseline ``bench/raw_app.py``
   (uvicorn, one worker, a plain asyncpg pool and one ``INSERT`` of the same row), both on loopback;
   registers the person and the data source the body refers to, and checks that both endpoints
   write the same row;
3. for each round, alternately (app, raw, then raw, app, …): a warm-up, then ``--connections``
   keep-alive clients posting for ``--seconds`` from a separate process (``wrk`` when installed,
   else ``bench/loadgen.py``); then the unloaded latency, one client, ``--latency-requests``
   sequential requests, for each;
4. prints the table and writes ``bench/results/write.json``; stops the servers and drops the database.

The machine is noisy: read the ratio, not the absolute figures. Server CPU per request (from
/proc) is the steadiest figure, since it does not depend on who else runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

TEAM = "growth"
OWNER = "anna.petrova"
SOURCE = "ga4"
# tests/factories.decision_body, with the team given so both endpoints write the very same row.
BODY: dict[str, Any] = {
    "title": "Move 20% of display budget to paid search",
    "rationale": "Paid search converts at 3.4% against 0.6% for display.",
    "basis": "data",
    "evidence": [
        {
            "source": SOURCE,
            "reference": "https://analytics.example.com/r/1",
            "metric": "conversion_rate",
            "value": 0.034,
        }
    ],
    "owner": OWNER,
    "team": TEAM,
    "channel": "paid_search",
    "category": "budget",
    "decided_at": "2026-03-01T10:00:00Z",
}
# Endpoints --reference serves beside the service: the module under bench/ and its environment.
REFERENCES: dict[str, tuple[str, dict[str, str]]] = {
    "orm_app": ("orm_app", {}),
    "orm_app_no_refresh": ("orm_app", {"BENCH_ORM_REFRESH": "0"}),
    "lean_app": ("lean_app", {}),
}
# Servers of the working tree with a benchmark switch (bench/serve.py), by name: what they leave out.
VARIANTS = {"no-signals": "the working tree without its rationale analysis"}
# Columns allowed to differ between the rows the two endpoints write; every other one must match.
PER_ROW = frozenset({"id", "recorded_at", "recorded_by", "updated_at"})


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# CPU accounting from /proc: the server process, and the machine as a whole
# ---------------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")
# Seconds to let in-flight requests finish (and pg_stat_database catch up, which it does once a second).
DRAIN = 1.5


def export(revision: str, into: Path) -> Path:
    """The service's files at ``revision`` (what ``serve`` needs: the package and the migrations)."""
    tree = into / re.sub(r"[^\w.-]", "_", revision)
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "app", "alembic", "alembic.ini"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def process_cpu(pid: int) -> float:
    """User + system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process, the backends already gone included (they are added to
    the postmaster's children's time when it reaps them). Whole server: other databases count too."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()
        if name == "postgres" or name.startswith("postgres:"):
            total += sum(int(v) for v in fields[11:15]) / TICK
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds over all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / TICK, total / TICK


# ---------------------------------------------------------------------------------------------
# Database set-up
# ---------------------------------------------------------------------------------------------


async def create_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def create_write_key(url: str) -> str:
    from app.auth.scopes import Scope
    from app.auth.service import create_key
    from app.core.config import get_settings
    from app.core.unit_of_work import Database

    database = Database(get_settings(), url=url)
    try:
        async with database.sessionmaker() as session, session.begin():
            _, key = await create_key(session, name="bench-write", scope=Scope.write)
    finally:
        await database.dispose()
    return key


async def db_counters(dsn: str) -> tuple[int, int]:
    """(decision rows, sessions ever opened on this database), the latter as the statistics have it."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM decision) AS rows, sessions FROM pg_stat_database"
            " WHERE datname = current_database()"
        )
        return int(row["rows"]), int(row["sessions"])
    finally:
        await connection.close()


async def compare_rows(dsn: str, app_id: str, raw_id: str) -> list[str]:
    """Columns where the rows the two endpoints wrote differ (expected: none)."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = {
            str(r["id"]): dict(r)
            for r in await connection.fetch("SELECT * FROM decision WHERE id = ANY($1::uuid[])", [app_id, raw_id])
        }
    finally:
        await connection.close()
    if set(rows) != {app_id, raw_id}:
        return ["<row missing>"]
    app_row, raw_row = rows[app_id], rows[raw_id]
    return [column for column in app_row if column not in PER_ROW and app_row[column] != raw_row[column]]


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.log_path = RESULTS / f"{name}-server.log"
        RESULTS.mkdir(parents=True, exist_ok=True)  # bench/instructions.py starts servers without environment()
        self.log_file = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log_file, stderr=subprocess.STDOUT
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.process.returncode}); see {self.log_path}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------


def run_wrk(server: Server, body_file: Path, auth: str, *, connections: int, seconds: float) -> dict[str, Any]:
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(BENCH / "wrk_post.lua"), f"{server.base_url}/v1/decisions",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file), "BENCH_AUTH": auth}
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    summary = json.loads(line.removeprefix("WRK_JSON "))
    elapsed = summary["duration_us"] / 1e6
    errors = {k: summary[k] for k in ("connect", "read", "write", "status", "timeout") if summary[k]}
    ok = summary["requests"] - summary["status"]
    return {
        "generator": "wrk",
        "connections": connections,
        "seconds": elapsed,
        "requests": summary["requests"],
        "ok": ok,
        "errors": errors,
        "rps": ok / elapsed,
        "latency_ms": {
            "p50": summary["p50_us"] / 1000,
            "p90": summary["p90_us"] / 1000,
            "p99": summary["p99_us"] / 1000,
            "max": summary["max_us"] / 1000,
            "mean": summary["mean_us"] / 1000,
        },
    }


def run_python(
    server: Server,
    body_file: Path,
    auth: str,
    *,
    connections: int,
    seconds: float = 0,
    requests: int = 0,
    warmup: float = 0,
    samples: bool = False,
) -> dict[str, Any]:
    command = [
        sys.executable, str(BENCH / "loadgen.py"), "--port", str(server.port), "--body-file", str(body_file),
        "--header", f"Authorization: {auth}", "--connections", str(connections), "--seconds", str(seconds),
        "--requests", str(requests), "--warmup", str(warmup),
    ]  # fmt: skip
    if samples:
        command.append("--samples")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output)  # type: ignore[no-any-return]


def throughput(
    server: Server, body_file: Path, auth: str, dsn: str, args: argparse.Namespace, generator: str
) -> dict[str, Any]:
    drive = run_wrk if generator == "wrk" else run_python
    if args.warmup > 0:
        drive(server, body_file, auth, connections=args.connections, seconds=args.warmup)
        time.sleep(DRAIN)
    rows_before, sessions_before = asyncio.run(db_counters(dsn))
    cpu_before, pg_before = process_cpu(server.process.pid), postgres_cpu()
    busy_before, total_before = machine_cpu()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = drive(server, body_file, auth, connections=args.connections, seconds=args.seconds)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = machine_cpu()
    time.sleep(DRAIN)  # the requests still in flight finish (and are counted by their rows)
    cpu_after, pg_after = process_cpu(server.process.pid), postgres_cpu()
    rows, sessions = asyncio.run(db_counters(dsn))
    rows -= rows_before
    server_cpu = cpu_after - cpu_before
    result["rows_written"] = rows
    result["server_cpu_s"] = server_cpu
    # Every request served in the window wrote one decision row: CPU per row is CPU per request,
    # the ones that were still in flight when the generator stopped included.
    result["server_cpu_ms_per_request"] = server_cpu / rows * 1000 if rows else float("nan")
    result["server_cpu_utilisation"] = server_cpu / result["seconds"]
    # The load generator's own CPU (a finished child process): it must stay well under one core.
    generator_cpu = sum(getattr(children_after, f) - getattr(children_before, f) for f in ("ru_utime", "ru_stime"))
    result["generator_cpu_utilisation"] = generator_cpu / result["seconds"]
    result["postgres_cpu_ms_per_request"] = (pg_after - pg_before) / rows * 1000 if rows else float("nan")
    result["machine_busy_cores"] = (busy_after - busy_before) / (total_after - total_before) * (os.cpu_count() or 1)
    # New database connections during the run (less the one counting them): a steady pool opens none.
    result["db_sessions_opened"] = max(0, sessions - sessions_before - 1)
    if result["ok"] == 0 or result.get("errors"):
        log(f"  warning: {server.name}: {result['ok']} ok, errors {result.get('errors')}; see {server.log_path}")
    # Requests in flight when the generator stops still commit: up to one per connection.
    if not result["ok"] <= rows <= result["ok"] + args.connections:
        log(f"  warning: {server.name}: {rows} rows written for {result['ok']} successful requests")
    return result


def latency(server: Server, body_file: Path, auth: str, args: argparse.Namespace) -> dict[str, Any]:
    return run_python(server, body_file, auth, connections=1, requests=args.latency_requests, warmup=1.0, samples=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def summarise(
    runs: dict[str, list[dict[str, Any]]], lat: dict[str, list[dict[str, Any]]], *, references: Sequence[str] = ()
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in runs:
        samples = [s for r in lat[name] for s in r.pop("samples_ms")]
        summary[name] = {
            "rps": statistics.median(r["rps"] for r in runs[name]),
            "rps_each_round": [round(r["rps"], 1) for r in runs[name]],
            "server_cpu_ms_per_request": statistics.median(r["server_cpu_ms_per_request"] for r in runs[name]),
            "server_cpu_utilisation": statistics.median(r["server_cpu_utilisation"] for r in runs[name]),
            "generator_cpu_utilisation": statistics.median(r["generator_cpu_utilisation"] for r in runs[name]),
            "machine_busy_cores": statistics.median(r["machine_busy_cores"] for r in runs[name]),
            "postgres_cpu_ms_per_request": statistics.median(r["postgres_cpu_ms_per_request"] for r in runs[name]),
            "db_sessions_opened": sum(r["db_sessions_opened"] for r in runs[name]),
            "loaded_p50_ms": statistics.median(r["latency_ms"]["p50"] for r in runs[name]),
            "loaded_p99_ms": statistics.median(r["latency_ms"]["p99"] for r in runs[name]),
            "unloaded_p50_ms": percentile(samples, 50),
            "unloaded_p99_ms": percentile(samples, 99),
            "unloaded_requests": len(samples),
        }
    app, raw = summary["app"], summary["raw"]

    def per_round(top: str, bottom: str) -> list[float]:
        return [round(x["rps"] / y["rps"], 3) for x, y in zip(runs[top], runs[bottom], strict=True)]

    def app_against(name: str) -> dict[str, Any]:
        """The service's throughput and CPU per request against another server's."""
        return {
            "rps_ratio": app["rps"] / summary[name]["rps"],
            "rps_ratio_each_round": per_round("app", name),
            "cpu_ratio": app["server_cpu_ms_per_request"] / summary[name]["server_cpu_ms_per_request"],
        }

    summary["ratio"] = app["rps"] / raw["rps"]
    summary["ratio_each_round"] = per_round("app", "raw")
    summary["cpu_ratio"] = raw["server_cpu_ms_per_request"] / app["server_cpu_ms_per_request"]
    summary["target_ratio"] = 0.40
    summary["meets_target"] = summary["ratio"] >= 0.40
    summary["against"] = {name: app_against(name) for name in runs if name not in ("app", "raw", *references)}
    summary["references"] = {
        name: {
            "ratio_to_raw": summary[name]["rps"] / raw["rps"],
            "ratio_to_raw_each_round": per_round(name, "raw"),
            **app_against(name),
        }
        for name in references
    }
    return summary


def app_against_line(name: str, versus: dict[str, Any]) -> str:
    rounds = " ".join(f"{x:.2f}" for x in versus["rps_ratio_each_round"])
    return (
        f"app/{name}: throughput {versus['rps_ratio']:.2f}x (rounds {rounds}), "
        f"CPU per request {versus['cpu_ratio']:.2f}x"
    )


def table(summary: dict[str, Any], config: dict[str, Any]) -> str:
    app, raw = summary["app"], summary["raw"]
    rows = [
        ("throughput, req/s (median of rounds)", f"{app['rps']:,.0f}", f"{raw['rps']:,.0f}",
         f"{summary['ratio']:.0%}"),
        ("  each round", " ".join(f"{x:,.0f}" for x in app["rps_each_round"]),
         " ".join(f"{x:,.0f}" for x in raw["rps_each_round"]),
         " ".join(f"{x:.0%}" for x in summary["ratio_each_round"])),
        ("server CPU per request, ms", f"{app['server_cpu_ms_per_request']:.2f}",
         f"{raw['server_cpu_ms_per_request']:.2f}", f"{summary['cpu_ratio']:.0%}"),
        ("PostgreSQL CPU per request, ms (whole server)", f"{app['postgres_cpu_ms_per_request']:.2f}",
         f"{raw['postgres_cpu_ms_per_request']:.2f}", ""),
        ("new database connections during the runs", f"{app['db_sessions_opened']}", f"{raw['db_sessions_opened']}",
         ""),
        ("server CPU use under load, cores", f"{app['server_cpu_utilisation']:.2f}",
         f"{raw['server_cpu_utilisation']:.2f}", ""),
        ("load generator CPU use, cores", f"{app['generator_cpu_utilisation']:.2f}",
         f"{raw['generator_cpu_utilisation']:.2f}", ""),
        ("whole machine busy under load, cores", f"{app['machine_busy_cores']:.2f}",
         f"{raw['machine_busy_cores']:.2f}", ""),
        (f"latency under load ({config['connections']} clients) p50, ms", f"{app['loaded_p50_ms']:.2f}",
         f"{raw['loaded_p50_ms']:.2f}", ""),
        (f"latency under load ({config['connections']} clients) p99, ms", f"{app['loaded_p99_ms']:.2f}",
         f"{raw['loaded_p99_ms']:.2f}", ""),
        ("unloaded latency (1 client) p50, ms", f"{app['unloaded_p50_ms']:.2f}", f"{raw['unloaded_p50_ms']:.2f}",
         f"{app['unloaded_p50_ms'] / raw['unloaded_p50_ms']:.1f}x"),
        ("unloaded latency (1 client) p99, ms", f"{app['unloaded_p99_ms']:.2f}", f"{raw['unloaded_p99_ms']:.2f}",
         f"{app['unloaded_p99_ms'] / raw['unloaded_p99_ms']:.1f}x"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    cols = [max(len(r[i]) for r in rows) for i in (1, 2, 3)]
    cols = [max(c, len(h)) for c, h in zip(cols, ("app", "raw", "app/raw"), strict=True)]
    lines = [f"{'':<{width}}  {'app':>{cols[0]}}  {'raw':>{cols[1]}}  {'app/raw':>{cols[2]}}"]
    lines += [f"{r[0]:<{width}}  {r[1]:>{cols[0]}}  {r[2]:>{cols[1]}}  {r[3]:>{cols[2]}}" for r in rows]
    if config["baseline"] == "raw_app":
        verdict = "meets" if summary["meets_target"] else "MISSES"
        lines.append(f"target: app >= 40% of raw throughput -> {verdict} ({summary['ratio']:.1%})")
    else:
        lines.append(f"baseline: bench/{config['baseline']}.py in the raw column (not the target's baseline)")
    for name, versus in summary["against"].items():
        other = summary[name]
        lines.append(
            f"against {name} ({VARIANTS.get(name, 'the service at that revision')}, same rounds): "
            f"{other['rps']:,.0f} req/s (rounds {' '.join(f'{x:,.0f}' for x in other['rps_each_round'])}), "
            f"{other['server_cpu_ms_per_request']:.2f} ms CPU/request, "
            f"loaded p50/p99 {other['loaded_p50_ms']:.1f}/{other['loaded_p99_ms']:.1f} ms, "
            f"unloaded p50/p99 {other['unloaded_p50_ms']:.2f}/{other['unloaded_p99_ms']:.2f} ms; "
            + app_against_line(name, versus)
        )
    for name, versus in summary["references"].items():
        other = summary[name]
        lines.append(
            f"reference {name} (same rounds): {other['rps']:,.0f} req/s, "
            f"{other['server_cpu_ms_per_request']:.2f} ms CPU/request, {versus['ratio_to_raw']:.1%} of raw "
            f"(rounds {' '.join(f'{x:.0%}' for x in versus['ratio_to_raw_each_round'])}); "
            + app_against_line(name, versus)
        )
    lines.append(
        f"generator {config['generator']}, {config['connections']} connections x {config['seconds']:g} s, "
        f"{config['rounds']} rounds, {config['cpus']} CPUs"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def git_state() -> str:
    try:
        return subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def choose_generator(wanted: str) -> str:
    if wanted == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if wanted == "wrk":
        sys.exit("wrk is not installed (apt-get install -y wrk); or use --generator python")
    log("wrk not found: using the Python generator bench/loadgen.py (it costs more CPU on the same 2 cores;")
    log("  for a lighter one install wrk: apt-get install -y wrk)")
    return "python"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured load per run (default 15)")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured load before each run (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive clients (default 32)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, each server once per round (default 2)")
    parser.add_argument("--latency-requests", type=int, default=500, help="sequential requests per round")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--baseline",
        choices=["raw_app", "lean_app"],
        default="raw_app",
        help="the endpoint beside the service: raw_app (the target's baseline) or lean_app (the service's work "
        "in the leanest FastAPI route)",
    )
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="REV",
        help="also serve the service at this git revision and measure it in the same rounds (its migrations must "
        "match the working tree's)",
    )
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        choices=sorted(REFERENCES),
        help="also serve this endpoint in the same rounds and give its ratio to the raw one: orm_app (the "
        "tutorials' async ORM session with add, commit and refresh: issue #2's 21 %% reference point), "
        "orm_app_no_refresh (its 25 %% point) or lean_app",
    )
    parser.add_argument(
        "--without-rationale-signals",
        action="store_true",
        help="also serve the working tree with its rationale analysis off (bench/serve.py --no-rationale-signals, "
        "as `no-signals`) in the same rounds: what detecting rationale_signals costs the write path",
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server, no db")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--output", type=Path, default=RESULTS / "write.json")
    return parser.parse_args()


@dataclass
class Environment:
    url: str  # the database, as the bench itself reaches it
    auth: str  # an Authorization header value with a write key
    servers: dict[str, Server]
    row_differences: list[str] = field(default_factory=list)


@contextmanager
def environment(
    pg: str,
    *,
    prefix: str = "bench_write",
    keep_db: bool = False,
    dsn_for: Callable[[str, str], str] = lambda _target, url: url,
    access_log: bool = True,
    baseline: str = "raw_app",
    against: Sequence[str] = (),
    references: Sequence[str] = (),
    variants: Sequence[tuple[str, Sequence[str]]] = (),
) -> Iterator[Environment]:
    """A fresh database with a write key, a person and a data source; the service and the raw
    endpoint serving it (``dsn_for(target, url)`` picks the URL each server uses), the service at each
    revision of ``against`` (servers named by the revision), each endpoint of ``references`` (named as in
    :data:`REFERENCES`) and each of ``variants`` (a name, and the switches of bench/serve.py the working tree is
    served with). Torn down after."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.TemporaryDirectory(prefix="bench-write-")
    pg = pg.rstrip("/")
    admin_url = f"{pg}/postgres"
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    url = f"{pg}/{name}"
    servers: dict[str, Server] = {}
    log(f"creating database {name}")
    asyncio.run(create_database(admin_url, name))
    try:
        from app.core.migrations import upgrade

        upgrade(url)
        auth = "Bearer " + asyncio.run(create_write_key(url))
        service_env = {
            "DECISION_LOG_DATABASE_URL": dsn_for("app", url),
            # The limiter stays on (its cost is measured) but far above the offered load.
            "DECISION_LOG_RATE_LIMIT": "100000000/minute",
            **({} if access_log else {"DECISION_LOG_LOG_LEVEL": "WARNING"}),
        }
        for target, tree in [("app", None), *((rev, export(rev, Path(scratch.name))) for rev in against)]:
            port = free_port()
            servers[target] = Server(
                "app" if tree is None else f"rev-{tree.name}",
                [str(BIN / "decision-log"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                service_env if tree is None else {**service_env, "PYTHONPATH": str(tree)},  # its own package first
                port,
            )
        for target, switches in variants:
            port = free_port()
            servers[target] = Server(
                target,
                [sys.executable, str(BENCH / "serve.py"), *switches, "--host", "127.0.0.1", "--port", str(port)],
                {**service_env, "PYTHONPATH": str(ROOT)},
                port,
            )
        for target, (module, extra) in [*((name, REFERENCES[name]) for name in references), ("raw", (baseline, {}))]:
            port = free_port()
            servers[target] = Server(
                target,
                [str(BIN / "uvicorn"), f"{module}:app", "--app-dir", str(BENCH), "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1", "--log-level", "info" if access_log else "warning"],
                {"BENCH_RAW_DSN": dsn_for("raw", url), "PYTHONPATH": str(ROOT), **extra},
                port,
            )  # fmt: skip
        for server in servers.values():
            server.wait_ready()
        log(f"servers up: app pid {servers['app'].process.pid}, raw pid {servers['raw'].process.pid}")

        with httpx.Client(base_url=servers["app"].base_url, headers={"Authorization": auth}) as client:
            for path, payload in (
                (f"/v1/people/{OWNER}", {"name": "Anna Petrova", "team": TEAM}),
                (f"/v1/data-sources/{SOURCE}", {"name": "GA4", "kind": "analytics"}),
            ):
                client.put(path, json=payload).raise_for_status()
            first = client.post("/v1/decisions", json=BODY)
        if first.status_code != 201:
            raise RuntimeError(f"app: POST /v1/decisions -> {first.status_code} {first.text}")
        raw_first = httpx.post(f"{servers['raw'].base_url}/v1/decisions", json=BODY)
        if raw_first.status_code != 201:
            raise RuntimeError(f"raw: POST /v1/decisions -> {raw_first.status_code} {raw_first.text}")
        differing = asyncio.run(compare_rows(url, first.json()["id"], raw_first.json()["id"]))
        if differing:  # the schema moved on and raw_app.py has not: the comparison is less fair
            log(f"warning: the two endpoints write different values in {differing}; update bench/raw_app.py")
        for reference in references:
            answer = httpx.post(f"{servers[reference].base_url}/v1/decisions", json=BODY)
            if answer.status_code != 201:
                raise RuntimeError(f"{reference}: POST /v1/decisions -> {answer.status_code} {answer.text}")
            if apart := asyncio.run(compare_rows(url, first.json()["id"], answer.json()["id"])):
                log(f"warning: {reference} writes other values than the service in {apart}")
        yield Environment(url=url, auth=auth, servers=servers, row_differences=differing)
    finally:
        for server in servers.values():
            server.stop()
        scratch.cleanup()
        if keep_db:
            log(f"kept database {url}")
        else:
            asyncio.run(drop_database(admin_url, name))
            log(f"dropped database {name}")


def main() -> None:
    args = parse_args()
    generator = choose_generator(args.generator)
    RESULTS.mkdir(parents=True, exist_ok=True)
    body_file = RESULTS / "write-body.json"
    body_file.write_text(json.dumps(BODY))
    variants = [("no-signals", ["--no-rationale-signals"])] if args.without_rationale_signals else []
    with environment(
        args.pg,
        keep_db=args.keep_db,
        baseline=args.baseline,
        against=args.against,
        references=args.reference,
        variants=variants,
    ) as env:
        servers, auth, url = env.servers, env.auth, env.url
        targets = ["app", *args.against, *(name for name, _ in variants), *args.reference, "raw"]
        runs: dict[str, list[dict[str, Any]]] = {target: [] for target in targets}
        lat: dict[str, list[dict[str, Any]]] = {target: [] for target in targets}
        for round_no in range(args.rounds):
            # Each round in another order (app, raw; then raw, app; …), so that no server always goes first.
            shift = round_no % len(targets)
            order = targets[shift:] + targets[:shift]
            for target in order:
                result = throughput(servers[target], body_file, auth, url, args, generator)
                runs[target].append(result)
                log(
                    f"round {round_no + 1}/{args.rounds} {target}: {result['rps']:,.0f} req/s, "
                    f"{result['server_cpu_ms_per_request']:.2f} ms server CPU/request, "
                    f"{result['db_sessions_opened']} new db sessions, "
                    f"p50 {result['latency_ms']['p50']:.1f} ms, p99 {result['latency_ms']['p99']:.1f} ms"
                )
            for target in order:
                result = latency(servers[target], body_file, auth, args)
                lat[target].append(result)
                log(
                    f"round {round_no + 1}/{args.rounds} {target} unloaded: p50 {result['latency_ms']['p50']:.2f} "
                    f"ms, p99 {result['latency_ms']['p99']:.2f} ms"
                )

        config = {
            "connections": args.connections,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "latency_requests": args.latency_requests,
            "generator": generator,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.platform(),
            "loadavg_at_end": os.getloadavg(),
            "finished_at": datetime.now(UTC).isoformat(),
            "git": git_state(),
            "row_differences": env.row_differences,
            "baseline": args.baseline,
            "against": args.against,
            "references": args.reference,
        }
        summary = summarise(runs, lat, references=args.reference)
        report = {"config": config, "summary": summary, "throughput_runs": runs, "latency_runs": lat}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(table(summary, config))
        log(f"written {args.output}")


if __name__ == "__main__":
    main()
