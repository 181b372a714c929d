"""Shared by ``bench/batch.py``, ``bench/export.py``, ``bench/analytics.py`` and ``bench/soak.py``: a throw-away
service, the data (the demo's organisation and generator, app/demo, at a larger scale), fast loaders and
/proc meters.

Everything here reuses ``bench/write.py``'s helpers (database creation and removal, migrations, the
write key, ``decision-log serve`` as a subprocess, CPU from /proc), so all the benchmarks set up the
same way.

The data are the demo's (:mod:`app.demo.plan`), grown: its team and 42 more people like them (50), over the
three years before the first day of the current month (UTC), with the demo's channels, data sources, KPIs,
strategies and words. :class:`~app.demo.plan.Decisions` draws any number of decisions, deterministically:
as API bodies (``payloads``) and as the rows the service holds for them (``rows``, the service's own
``new_row``), so a direct load (COPY, multi-row INSERT) holds the very rows the API would have written. A
direct load bypasses whatever the service maintains on write besides the ``decision`` row (revisions,
idempotency records, rollups): a loader must rebuild those.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import JSON
from write import (
    BIN,
    RESULTS,
    Server,
    create_database,
    create_write_key,
    drop_database,
    free_port,
    git_state,
    log,
    machine_cpu,
    postgres_cpu,
    process_cpu,
)

from app.auth.scopes import Scope
from app.auth.service import Caller
from app.core.money import MoneyUnits, to_units
from app.decisions.models import Decision
from app.decisions.schemas import OutcomeResult
from app.demo.data import CHANNELS as DEMO_CHANNELS
from app.demo.plan import DEFAULT_SEED, Decisions, Organisation, contradicted_kpi
from app.demo.plan import organisation as demo_organisation

__all__ = ["RESULTS", "Decisions", "git_state", "log"]

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
KEY_NAME = "bench-write"  # create_write_key's key name: the service stamps it as recorded_by

# ---------------------------------------------------------------------------------------------
# Percentiles and /proc meters
# ---------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (as bench/loadgen.py)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/min/mean of durations given in seconds, in ms."""
    return {
        "p50": percentile(samples, 50) * 1000,
        "p95": percentile(samples, 95) * 1000,
        "min": min(samples) * 1000,
        "mean": statistics.fmean(samples) * 1000,
        "n": len(samples),
    }


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for pid {pid}")


def worker_pids(pid: int) -> list[int]:
    """The child processes of ``pid`` that serve requests (uvicorn's ``--workers``), multiprocessing's
    resource tracker left out."""
    pids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(OSError):
            pids += [int(child) for child in task.read_text().split()]
    found = []
    for child in sorted(set(pids)):
        with suppress(OSError):
            if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def reset_peak_rss(pid: int) -> bool:
    """Reset the kernel's high-water mark (VmHWM) of ``pid`` to its current RSS (Linux ≥ 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler:
    """Samples VmRSS of ``pid`` every ``interval`` seconds on a thread, between start() and stop()."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            with suppress(OSError, RuntimeError):
                self.samples.append((time.perf_counter() - started, rss_kib(self.pid)))
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


@dataclass
class CpuMeter:
    """CPU used between start() and stop(): the server process, all of PostgreSQL, this process, the machine."""

    server_pid: int | None = None
    values: dict[str, float] = field(default_factory=dict)
    # With ``--workers N``: every process of the service (Service.pids()), instead of server_pid alone.
    server_pids: list[int] = field(default_factory=list)

    def _read(self) -> dict[str, float]:
        busy, total = machine_cpu()
        usage = os.times()
        pids = self.server_pids or ([self.server_pid] if self.server_pid else [])
        return {
            "server": sum(process_cpu(pid) for pid in pids),
            "postgres": postgres_cpu(),
            "bench": usage.user + usage.system,
            "busy": busy,
            "total": total,
            "wall": time.perf_counter(),
        }

    def start(self) -> CpuMeter:
        self.values = self._read()
        return self

    def stop(self) -> dict[str, float]:
        end = self._read()
        wall = end["wall"] - self.values["wall"]
        cores = os.cpu_count() or 1
        return {
            "wall_s": wall,
            "server_cpu_s": end["server"] - self.values["server"],
            "postgres_cpu_s": end["postgres"] - self.values["postgres"],
            "bench_cpu_s": end["bench"] - self.values["bench"],
            "machine_busy_cores": (end["busy"] - self.values["busy"])
            / max(1e-9, end["total"] - self.values["total"])
            * cores,
        }


def machine_note() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


# ---------------------------------------------------------------------------------------------
# The service, on a throw-away PostgreSQL database or SQLite file
# ---------------------------------------------------------------------------------------------


@dataclass
class Service:
    engine: str  # "postgresql" or "sqlite"
    url: str  # the database URL the service uses (postgresql://… or sqlite:///…)
    auth: str  # an Authorization header value with a write key (write includes read and analytics)
    server: Server
    name: str
    prefix: str = "bench"
    env: dict[str, str] = field(default_factory=dict)
    starts: int = 1
    # What serves: ``decision-log serve``, or bench/serve.py with a benchmark's switches (see there).
    serve: list[str] = field(default_factory=lambda: [str(BIN / "decision-log"), "serve"])
    # ``--workers``: with more than one, ``pid`` is uvicorn's supervisor and ``pids()`` adds the workers.
    workers: int = 1

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def pids(self) -> list[int]:
        """The supervisor and its worker processes (just the server process with one worker)."""
        return [self.pid, *worker_pids(self.pid)] if self.workers > 1 else [self.pid]

    def client(self, timeout: float = 120.0) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, headers={"Authorization": self.auth}, timeout=timeout)

    def start(self) -> None:
        port = free_port()
        suffix = f"-{self.starts}" if self.starts > 1 else ""
        self.server = Server(
            f"{self.prefix}-{self.engine}{suffix}",
            [*self.serve, "--host", "127.0.0.1", "--port", str(port)]
            + (["--workers", str(self.workers)] if self.workers > 1 else []),
            self.env,
            port,
        )
        self.server.wait_ready()
        if self.workers > 1:
            self.wait_workers()
        log(f"{self.engine}: service up, pid {self.server.process.pid}, log {self.server.log_path}")

    def wait_workers(self, timeout: float = 60.0) -> None:
        """Until every worker has started: /healthz answers as soon as one of them accepts, so count the
        workers' "Application startup complete." lines in the server log."""
        deadline = time.monotonic() + timeout
        while True:
            started = self.server.log_path.read_bytes().count(b"Application startup complete.")
            if started >= self.workers and len(worker_pids(self.pid)) >= self.workers:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.workers} workers not up after {timeout:.0f} s; see {self.server.log_path}")
            time.sleep(0.2)

    def restart(self) -> None:
        """A new service process: fresh connections, so no statement or plan cached before."""
        self.server.stop()
        self.starts += 1
        self.start()


@contextmanager
def service(
    engine: str,
    *,
    pg: str = DEFAULT_PG,
    prefix: str,
    env: dict[str, str] | None = None,
    keep: bool = False,
    workers: int = 1,
    serve: list[str] | None = None,
) -> Iterator[Service]:
    """A fresh, migrated database with a write key and ``decision-log serve`` (one worker, or ``--workers
    N``) on it. The server is stopped and the database dropped (the SQLite files removed) afterwards."""
    from app.core.migrations import upgrade

    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}_{os.getpid()}_{int(time.time())}"
    admin_url = f"{pg.rstrip('/')}/postgres"
    sqlite_path = Path("/tmp") / f"{name}.db"
    if engine == "postgresql":
        url = f"{pg.rstrip('/')}/{name}"
        log(f"creating database {name}")
        asyncio.run(create_database(admin_url, name))
    else:
        url = f"sqlite:///{sqlite_path}"
        log(f"creating SQLite database {sqlite_path}")
    svc: Service | None = None
    try:
        upgrade(url)
        auth = "Bearer " + asyncio.run(create_write_key(url))
        # The rate limiter stays on (its cost is measured) but far above the offered load.
        server_env = {"DECISION_LOG_DATABASE_URL": url, "DECISION_LOG_RATE_LIMIT": "100000000/minute", **(env or {})}
        svc = Service(
            engine=engine,
            url=url,
            auth=auth,
            server=None,  # type: ignore[arg-type]
            name=name,
            prefix=prefix,
            env=server_env,
            workers=workers,
        )
        if serve is not None:
            svc.serve = serve
        svc.start()
        yield svc
    finally:
        if svc is not None and svc.server is not None:
            svc.server.stop()
        if keep:
            log(f"kept {url}")
        elif engine == "postgresql":
            asyncio.run(drop_database(admin_url, name))
            log(f"dropped database {name}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
            log(f"removed {sqlite_path}")


# ---------------------------------------------------------------------------------------------
# The data: the demo's organisation and generator (app/demo), at the benchmarks' scale
# ---------------------------------------------------------------------------------------------

PEOPLE = 50
YEARS = 3
CHANNELS = tuple(DEMO_CHANNELS)
OUTCOMES = tuple(result.value for result in OutcomeResult)
CALLER = Caller(key_id="bench", name=KEY_NAME, scope=Scope.write)  # recorded_by of directly loaded rows


def organisation(seed: int = DEFAULT_SEED, years: int = YEARS, people: int = PEOPLE) -> Organisation:
    """The demo's organisation grown to ``people`` over the ``years`` before the first day of the current month
    (UTC): the same seed in the same month gives the same data."""
    today = datetime.now(UTC).date().replace(day=1)
    days = (today - today.replace(year=today.year - years)).days
    return demo_organisation(seed, days=days, today=today, people=people)


def register(client: httpx.Client, org: Organisation) -> None:
    """Record the people, data sources, strategies (with versions) and KPIs (with revisions, and the one that
    :class:`~app.demo.plan.Decisions` pulls both ways) through the API."""
    for handle, person in org.people:
        client.put(f"/v1/people/{handle}", json=person.model_dump(mode="json")).raise_for_status()
    for key, source in org.sources:
        client.put(f"/v1/data-sources/{key}", json=source.model_dump(mode="json")).raise_for_status()
    for strategy in org.strategies:
        client.post("/v1/strategies", json=strategy.model_dump(mode="json")).raise_for_status()
    for key, version in org.versions:
        client.post(f"/v1/strategies/{key}/versions", json=version.model_dump(mode="json")).raise_for_status()
    for key, kpi in org.kpis:
        client.put(f"/v1/kpis/{key}", json=kpi.model_dump(mode="json")).raise_for_status()
    # The KPI that some of the generator's decisions pull both ways (app.demo.plan.Decisions).
    key, kpi = contradicted_kpi()
    if key not in dict(org.kpis):
        client.put(f"/v1/kpis/{key}", json=kpi.model_dump(mode="json")).raise_for_status()


def stored_rows(org: Organisation, count: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` decisions as the service would hold them after the organisation's years of use."""
    return Decisions(org, count, seed=seed).rows(CALLER)


def columns(row: dict[str, Any]) -> tuple[str, ...]:
    """The columns a direct load writes: those of the generator's rows (all the same)."""
    return tuple(row)


# The decision table's JSON documents and amounts, which asyncpg takes as text and as ten-thousandths.
JSON_COLUMNS = frozenset(c.name for c in Decision.__table__.columns if isinstance(c.type, JSON))
MONEY_COLUMNS = frozenset(c.name for c in Decision.__table__.columns if isinstance(c.type, MoneyUnits))


def pg_record(values: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """A tuple for asyncpg (COPY or executemany): JSON columns as text, an absent document as SQL NULL
    (as the service stores it: its JSON columns have ``none_as_null``), amounts in ten-thousandths."""
    return tuple(_pg_value(values[c], c) for c in columns)


def _pg_value(value: Any, column: str) -> Any:
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.dumps(value)
    return to_units(value) if column in MONEY_COLUMNS else value


# ---------------------------------------------------------------------------------------------
# Direct loads (outside every timed section)
# ---------------------------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def copy_into_pg(dsn: str, rows: Iterator[dict[str, Any]], *, chunk: int = 50_000, total: int = 0) -> float:
    """COPY the rows into ``decision``; secondary indexes are dropped first and rebuilt after, then
    VACUUM ANALYZE (so the visibility map is set, as on a table that has lived a while). Returns seconds."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        indexes = await connection.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'decision' AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        done = 0
        batch: list[tuple[Any, ...]] = []
        names: tuple[str, ...] = ()
        for values in rows:
            names = names or columns(values)
            batch.append(pg_record(values, names))
            if len(batch) == chunk:
                await connection.copy_records_to_table("decision", records=batch, columns=names)
                done += len(batch)
                batch = []
                log(f"  copied {done:,}{f' of {total:,}' if total else ''} ({time.perf_counter() - started:.0f} s)")
        if batch:
            await connection.copy_records_to_table("decision", records=batch, columns=names)
        for index in indexes:
            await connection.execute(index["indexdef"])
        log(f"  rebuilt {len(indexes)} indexes ({time.perf_counter() - started:.0f} s)")
        await connection.execute("VACUUM ANALYZE decision")
    finally:
        await connection.close()
    return time.perf_counter() - started


def insert_into_sqlite(url: str, rows: Iterator[dict[str, Any]], *, chunk: int = 10_000) -> float:
    """Multi-row INSERTs through SQLAlchemy Core (the service's own column types, so the stored text of
    ids, times, amounts and JSON is exactly what the service writes), then ANALYZE. Returns seconds."""
    from sqlalchemy import create_engine, text

    from app.decisions.models import Decision

    started = time.perf_counter()
    engine = create_engine(url)
    table = Decision.__table__
    try:
        with engine.begin() as connection:
            batch: list[dict[str, Any]] = []
            for values in rows:
                batch.append(values)
                if len(batch) == chunk:
                    connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                connection.execute(table.insert(), batch)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return time.perf_counter() - started


def round_floats(value: Any, places: int = 6) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return round(value, places)
    return value


def new_key() -> str:
    return str(uuid.uuid4())
