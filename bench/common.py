"""Shared by ``bench/batch.py``, ``bench/export.py``, ``bench/analytics.py`` and ``bench/soak.py``: a throw-away
service, the registries every decision refers to, a realistic decision generator, fast loaders and /proc meters.

Everything here reuses ``bench/write.py``'s helpers (database creation and removal, migrations, the
write key, ``decision-log serve`` as a subprocess, CPU from /proc), so all the benchmarks set up the
same way.

The generator is deterministic: the same seed and the same month (the data ends on the first day of
the current month, UTC) give the same decisions. It draws a marketing organisation of 50 owners in six
teams over three years, 8 channels, 8 data sources, 6 KPIs and 3 strategies with versions; owners differ
in how often they decide on data, cite it, set budgets and review outcomes; activity grows over the
years, follows the season and the working week. It yields API bodies (``body``) and the row the service
writes for each (``row``), so a direct load (COPY, multi-row INSERT) holds the very rows the API would
have written. A direct load bypasses whatever the service maintains on write besides the ``decision``
row (revisions, idempotency records, and rollups should they be added): a loader must rebuild those.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import os
import random
import statistics
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import uuid_utils.compat as uuid_compat
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

from app.core.money import to_units
from app.core.types import format_utc

__all__ = ["RESULTS", "git_state", "log"]

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
# The organisation: owners, data sources, KPIs, strategies
# ---------------------------------------------------------------------------------------------

FIRST = (
    "anna", "dmitry", "james", "olga", "emily", "ivan", "sergey", "laura", "maria", "alexey", "sophie", "pavel",
    "nina", "george", "elena", "victor", "chloe", "roman", "irina", "daniel", "tatiana", "lucas", "marina", "oliver",
    "yulia", "hugo", "vera", "mark", "alina", "paul", "kira", "adam", "zoe", "leon", "daria", "felix", "polina",
    "max", "sara", "igor", "eva", "nikita", "lena", "boris", "clara", "artem", "mia", "denis", "ruth", "ada",
)  # fmt: skip
LAST = (
    "petrova", "sokolov", "wilson", "smirnova", "clark", "kuznetsov", "volkov", "bennett", "ivanova", "orlov",
    "martin", "popov", "garcia", "morozova", "lebedev", "hughes", "novikova", "fedorov", "baker", "pavlova",
    "kozlov", "wright", "egorova", "stepanov", "moore", "nikitina", "zaitsev", "hall", "belova", "gusev", "young",
    "sorokina", "vinogradov", "lewis", "frolova", "bogdanov", "allen", "kiseleva", "makarov", "king", "titova",
    "antonov", "scott", "zakharova", "komarov", "green", "mironova", "nikolaev", "adams", "tarasova",
)  # fmt: skip
TEAMS = ("growth", "growth", "performance", "performance", "brand", "brand", "content", "crm", "partnerships")
CHANNELS = ("paid_search", "social", "email", "seo", "display", "content", "events", "affiliates")
TEAM_CHANNELS = {
    "growth": (3, 2, 3, 2, 1, 1, 0.2, 2),
    "performance": (5, 3, 1, 0.5, 3, 0.2, 0.1, 2),
    "brand": (0.5, 3, 0.5, 1, 2, 3, 3, 0.2),
    "content": (0.2, 2, 1, 3, 0.2, 5, 1, 0.2),
    "crm": (0.2, 0.5, 5, 0.2, 0.2, 1, 0.5, 1),
    "partnerships": (0.5, 1, 0.5, 0.2, 0.5, 0.5, 2, 5),
}
CATEGORIES = (
    "budget", "channel_mix", "creative", "pricing", "positioning", "targeting", "contractor", "kpi", "strategy",
    "other",
)  # fmt: skip
CATEGORY_WEIGHTS = (5, 3, 3, 1, 1.5, 3, 1, 1, 0.5, 1.5)
BASES_DATA = ("data", "experiment", "research")
BASES_EMOTION = ("intuition", "emotion", "authority")
SOURCES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("ga4", "Google Analytics 4", "analytics", "analytics.google.com", ("conversion_rate", "sessions", "bounce_rate")),
    ("google-ads", "Google Ads", "ads", "ads.google.com", ("cpc", "ctr", "roas")),
    ("yandex-direct", "Яндекс Директ", "ads", "direct.yandex.ru", ("cpa", "ctr")),
    ("crm", "CRM (amoCRM)", "crm", "crm.example.com", ("win_rate", "pipeline_eur", "lead_to_deal")),
    ("ab-platform", "GrowthBook experiments", "experiment", "growthbook.example.com", ("uplift", "p_value")),
    ("brand-tracker", "Brand health tracker", "research", "panel.example.com", ("aided_awareness", "consideration")),
    ("nps-survey", "Customer NPS survey", "survey", "forms.example.com", ("nps", "responses")),
    ("finance-bi", "Finance BI: marketing P&L", "finance", "bi.example.com", ("cac", "margin", "payback_months")),
)
KPIS = (
    ("cac", "Customer acquisition cost", "EUR", "money", 50.0, "decrease"),
    ("marketing-revenue", "Marketing-sourced revenue per month", "EUR", "money", 400000.0, "increase"),
    ("leads", "Marketing-qualified leads per month", "leads", "activity", 1200.0, "increase"),
    ("brand-awareness", "Aided brand awareness", "%", "activity", 30.0, "increase"),
    ("social-reach", "Monthly social reach", "people", "activity", 500000.0, "increase"),
    ("content-output", "Content pieces published per month", "pieces", "activity", 20.0, "increase"),
)
CHANNEL_KPIS = {
    "paid_search": ("cac", "marketing-revenue", "leads"),
    "social": ("social-reach", "leads", "brand-awareness"),
    "email": ("marketing-revenue", "leads"),
    "seo": ("leads", "content-output"),
    "display": ("brand-awareness", "cac"),
    "content": ("content-output", "social-reach"),
    "events": ("brand-awareness", "leads"),
    "affiliates": ("cac", "marketing-revenue"),
}
# Strategy key → the teams that follow it, and its versions' offsets in days from the start of the data.
STRATEGIES = {
    "profitable-growth": (("growth", "performance", "crm"), (-90, 160, 420, 700, 930)),
    "brand-platform": (("brand", "content"), (-200, 300, 800)),
    "partner-first": (("partnerships",), (40, 520)),
}
MONTH_WEIGHT = (0.7, 0.9, 1.1, 1.1, 1.0, 0.9, 0.7, 0.6, 1.2, 1.3, 1.3, 0.9)
WEEKDAY_WEIGHT = (1.0, 1.1, 1.0, 1.0, 0.8, 0.05, 0.02)
TAGS = ("q1-plan", "q2-plan", "q3-plan", "q4-plan", "black-friday", "launch", "test", "retention", "brand-lift",
        "cost-cutting", "regional", "b2b")  # fmt: skip
TITLES = (
    "Move {pct}% of {ch} budget to {ch2}",
    "Pause the {ch} campaign for {segment}",
    "Raise the {ch} bid cap by {pct}%",
    "Test a new {ch} creative for {segment}",
    "Cut {ch} spend by {pct}% next month",
    "Hire an agency for {ch}",
    "Launch a {ch} push for {segment}",
    "Shift {ch} targeting to {segment}",
    "Рекламный бюджет {ch}: +{pct}% на {segment}",
)
SEGMENTS = ("returning customers", "new visitors", "SMB accounts", "enterprise leads", "mobile users", "Moscow",
            "Berlin", "students", "lapsed buyers", "trial users")  # fmt: skip
REASONS = (
    "Conversion on {ch} has been {pct}% above plan for six weeks.",
    "The last quarter's CPA on {ch} rose from 38 to {n} EUR while volume stayed flat.",
    "An A/B test over {n} sessions showed a {pct}% uplift with p < 0.05.",
    "Sales report that leads from {ch} close twice as often as the average.",
    "The brand tracker shows awareness stuck at {pct}% among {segment}.",
    "Competitors doubled their share of voice on {ch} since spring.",
    "We believe {segment} respond better to a personal tone.",
    "The CEO asked for a stronger presence on {ch} before the season.",
    "Finance capped the quarter's budget; {ch} has the weakest payback ({n} months).",
    "Customer interviews ({n} calls) point to price as the main objection.",
    "Контекстная реклама окупается за {n} месяцев, медийная — не окупается.",
)
OUTCOMES = ("success", "success", "partial", "failure", "inconclusive")


@dataclass(frozen=True, slots=True)
class Owner:
    handle: str
    name: str
    team: str
    data_share: float  # chance a decision is declared on a data basis
    cites: float  # chance a data claim cites its evidence
    budgets: float  # chance a decision carries a budget
    reviews: float  # chance a due decision gets an outcome review
    follows: float  # chance a decision names the team's strategy
    weight: float  # relative activity


@dataclass
class Organisation:
    start: datetime
    end: datetime
    owners: list[Owner]
    versions: dict[str, list[tuple[datetime, int]]]  # strategy → [(effective_from, number)]
    team_strategy: dict[str, str]
    by_handle: dict[str, Owner] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_handle = {o.handle: o for o in self.owners}

    def strategy_version_at(self, key: str, at: datetime) -> int | None:
        return max((n for effective_from, n in self.versions[key] if effective_from <= at), default=None)


def data_range(years: int = 3) -> tuple[datetime, datetime]:
    """[first day of the month ``years`` years ago, first day of the current month), UTC."""
    now = datetime.now(UTC)
    end = datetime(now.year, now.month, 1, tzinfo=UTC)
    return end.replace(year=end.year - years), end


def organisation(seed: int = 2026, years: int = 3) -> Organisation:
    rng = random.Random(seed)
    start, end = data_range(years)
    owners = []
    for i in range(50):
        first, last = FIRST[i], LAST[(i * 7) % 50]
        owners.append(
            Owner(
                handle=f"{first}.{last}",
                name=f"{first.title()} {last.title()}",
                team=TEAMS[i % len(TEAMS)],
                data_share=rng.uniform(0.15, 0.85),
                cites=rng.uniform(0.4, 0.98),
                budgets=rng.uniform(0.3, 0.8),
                reviews=rng.uniform(0.1, 0.85),
                follows=rng.uniform(0.3, 0.9),
                weight=1 / (1 + (i * 13 % 50)) ** 0.7,  # a few very active owners, a long tail
            )
        )
    versions = {
        key: [(start + timedelta(days=offset), n) for n, offset in enumerate(offsets, 1)]
        for key, (_, offsets) in STRATEGIES.items()
    }
    team_strategy = {team: key for key, (teams, _) in STRATEGIES.items() for team in teams}
    return Organisation(start, end, owners, versions, team_strategy)


def register(client: httpx.Client, org: Organisation) -> None:
    """Create the owners, data sources, KPIs and strategies (with versions) through the API."""
    for owner in org.owners:
        response = client.put(f"/v1/people/{owner.handle}", json={"name": owner.name, "team": owner.team})
        response.raise_for_status()
    for key, name, kind, host, _ in SOURCES:
        client.put(f"/v1/data-sources/{key}", json={"name": name, "kind": kind, "url": f"https://{host}/"})
    for key, name, unit, kind, target, direction in KPIS:
        body = {"name": name, "unit": unit, "kind": kind, "target": target, "direction": direction}
        client.put(f"/v1/kpis/{key}", json=body).raise_for_status()
    for key, (teams, _) in STRATEGIES.items():
        client.post("/v1/strategies", json={"key": key, "title": key.replace("-", " ").title()}).raise_for_status()
        for effective_from, number in org.versions[key]:
            body = {
                "summary": f"{key} v{number}: focus on {', '.join(teams)}",
                "effective_from": format_utc(effective_from),
                "change_reason": None if number % 3 == 0 else f"Quarterly review {number}.",
            }
            client.post(f"/v1/strategies/{key}/versions", json=body).raise_for_status()


# ---------------------------------------------------------------------------------------------
# Decisions: API bodies, and the rows the service writes for them
# ---------------------------------------------------------------------------------------------


class Generator:
    """Decision bodies in ``decided_at`` order; ``count`` of them spread over the organisation's range."""

    def __init__(self, org: Organisation, count: int, *, seed: int = 7, external_refs: bool = True) -> None:
        self.org = org
        self.rng = random.Random(seed)
        self.count = count
        self.external_refs = external_refs
        days = (org.end - org.start).days
        weights = []
        for d in range(days):
            day = org.start + timedelta(days=d)
            growth = 0.5 + d / days  # adoption: three times as many decisions at the end as at the start
            weights.append(growth * MONTH_WEIGHT[day.month - 1] * WEEKDAY_WEIGHT[day.weekday()])
        self._day_cumulative = list(_cumulative(weights))
        self._owner_cumulative = list(_cumulative([o.weight for o in org.owners]))
        self._evidence_pool = [self._evidence(i) for i in range(400)]

    def _evidence(self, i: int) -> dict[str, Any]:
        rng = self.rng
        key, _, _, host, metrics = SOURCES[i % len(SOURCES)]
        item: dict[str, Any] = {
            "source": key,
            "reference": f"https://{host}/reports/{rng.randrange(10_000, 99_999)}?days={rng.choice((7, 28, 90))}",
            "metric": rng.choice(metrics),
            "value": round(rng.uniform(0, 100), 4) if rng.random() < 0.8 else f"{rng.randrange(1, 60)}%",
        }
        if rng.random() < 0.2:
            item["note"] = "Segment: " + rng.choice(SEGMENTS)
        return item

    def decided_times(self) -> list[datetime]:
        rng, cumulative, total = self.rng, self._day_cumulative, self._day_cumulative[-1]
        times = []
        for _ in range(self.count):
            day = bisect.bisect_left(cumulative, rng.random() * total)
            seconds = rng.randrange(8 * 3600, 20 * 3600)
            times.append(self.org.start + timedelta(days=day, seconds=seconds, microseconds=rng.randrange(1_000_000)))
        times.sort()
        return times

    def bodies(self) -> Iterator[dict[str, Any]]:
        for index, decided_at in enumerate(self.decided_times()):
            yield self.body(index, decided_at)

    def body(self, index: int, decided_at: datetime) -> dict[str, Any]:
        rng, org = self.rng, self.org
        owner = org.owners[bisect.bisect_left(self._owner_cumulative, rng.random() * self._owner_cumulative[-1])]
        channel = rng.choices(CHANNELS, TEAM_CHANNELS[owner.team])[0] if rng.random() < 0.96 else None
        ch = (channel or "marketing").replace("_", " ")
        fill = {
            "pct": rng.choice((5, 10, 15, 20, 25, 30, 40)),
            "ch": ch,
            "ch2": rng.choice(CHANNELS).replace("_", " "),
            "segment": rng.choice(SEGMENTS),
            "n": rng.randrange(3, 5000),
        }
        on_data = rng.random() < owner.data_share
        basis = rng.choice(BASES_DATA) if on_data else rng.choice(BASES_EMOTION)
        cites = rng.random() < (owner.cites if on_data else 0.08)
        evidence = [rng.choice(self._evidence_pool) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))] if cites else []
        body: dict[str, Any] = {
            "title": rng.choice(TITLES).format(**fill),
            "rationale": " ".join(r.format(**fill) for r in rng.sample(REASONS, rng.choice((1, 2, 2, 3)))),
            "basis": basis,
            "evidence": evidence,
            "owner": owner.handle,
            "category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
            "decided_at": format_utc(decided_at),
        }
        if channel:
            body["channel"] = channel
        if rng.random() < 0.25:
            body["description"] = f"Agreed in the {owner.team} weekly. " + rng.choice(REASONS).format(**fill)
        if rng.random() < 0.35:
            others = [o.handle for o in rng.sample(org.owners, 3) if o.handle != owner.handle]
            body["participants"] = others[: rng.choice((1, 2, 2))]
        if rng.random() < owner.budgets:
            # Whole cents, as an exact JSON number: the float of a cent amount writes back as its two decimals.
            cents = min(round(rng.lognormvariate(8.6, 1.3) * 100), 500_000_000)
            body["budget_amount"] = cents // 100 if cents % 100 == 0 else cents / 100
            body["budget_currency"] = rng.choices(("EUR", "USD", "RUB"), (75, 20, 5))[0]
        strategy = org.team_strategy[owner.team]
        if rng.random() < owner.follows and org.strategy_version_at(strategy, decided_at) is not None:
            body["strategy"] = strategy
        if channel and rng.random() < 0.5:
            body["kpis"] = rng.sample(CHANNEL_KPIS[channel], rng.choice((1, 1, 2)))
        if rng.random() < 0.5:
            outcome: dict[str, Any] = {"description": f"{fill['ch']} results improve by {fill['pct']}%"}
            if body.get("kpis"):
                outcome["kpi"] = body["kpis"][0]
                outcome["target_value"] = float(rng.randrange(10, 1000))
            outcome["review_by"] = format_utc(
                (decided_at + timedelta(days=rng.choice((30, 60, 90, 120)))).replace(hour=0, minute=0, second=0,
                                                                                      microsecond=0)
            )  # fmt: skip
            body["expected_outcome"] = outcome
        if rng.random() < 0.3:
            body["tags"] = rng.sample(TAGS, rng.choice((1, 1, 2, 3)))
        if self.external_refs and rng.random() < 0.5:
            body["external_ref"] = {"system": "planner", "id": f"PLAN-{index:08d}"}
        return body


def _cumulative(weights: Sequence[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# The decision table's columns, as the service fills them; everything else stays NULL (or its default).
COLUMNS = (
    "id", "title", "description", "rationale", "basis", "basis_class", "classification_reason", "evidence",
    "evidence_count", "owner_handle", "participants", "team", "channel", "category", "budget_amount",
    "budget_currency", "decided_at", "strategy_key", "strategy_version", "kpis", "expected_outcome", "review_by",
    "tags", "external_system", "external_id", "status", "revision", "recorded_at", "recorded_by", "updated_at",
)  # fmt: skip
LIFECYCLE_COLUMNS = (
    "reversal_reason", "reversed_by", "reversed_at", "outcome_result", "outcome_notes", "outcome_actual_value",
    "outcome_reviewed_by", "outcome_reviewed_at", "outcome_recorded_at",
)  # fmt: skip
JSON_COLUMNS = frozenset({"evidence", "participants", "kpis", "expected_outcome", "tags"})


def parse_utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def classify(basis: str, evidence_count: int) -> tuple[str, str]:
    if basis not in BASES_DATA:
        return "emotion", f"declared_{basis}"
    return ("data", "evidence_cited") if evidence_count else ("emotion", "data_claim_without_evidence")


def row(body: dict[str, Any], org: Organisation, *, now: datetime, recorded_by: str = KEY_NAME) -> dict[str, Any]:
    """The ``decision`` row the service writes for ``body`` (JSON columns as Python values)."""
    evidence = body.get("evidence") or []
    basis_class, reason = classify(body["basis"], len(evidence))
    decided_at = parse_utc(body["decided_at"])
    expected = body.get("expected_outcome")
    external = body.get("external_ref") or {}
    strategy = body.get("strategy")
    amount = body.get("budget_amount")
    return {
        "id": uuid_compat.uuid7(),
        "title": body["title"],
        "description": body.get("description"),
        "rationale": body["rationale"],
        "basis": body["basis"],
        "basis_class": basis_class,
        "classification_reason": reason,
        "evidence": evidence,
        "evidence_count": len(evidence),
        "owner_handle": body["owner"],
        "participants": body.get("participants") or [],
        "team": body.get("team") or org.by_handle[body["owner"]].team,
        "channel": body.get("channel"),
        "category": body.get("category", "other"),
        "budget_amount": Decimal(repr(amount)) if amount is not None else None,
        "budget_currency": body.get("budget_currency"),
        "decided_at": decided_at,
        "strategy_key": strategy,
        "strategy_version": org.strategy_version_at(strategy, decided_at) if strategy else None,
        "kpis": body.get("kpis") or [],
        "expected_outcome": expected,
        "review_by": parse_utc(expected["review_by"]) if expected and expected.get("review_by") else None,
        "tags": body.get("tags") or [],
        "external_system": external.get("system"),
        "external_id": external.get("id"),
        "status": "active",
        "revision": 1,
        "recorded_at": now,
        "recorded_by": recorded_by,
        "updated_at": now,
    }


def history(values: dict[str, Any], org: Organisation, rng: random.Random) -> dict[str, Any]:
    """What happened to a decision later, as of the end of the data: recorded a little after it was made,
    some reversed, outcome reviews for some of those due. Updates ``values`` in place."""
    decided_at = values["decided_at"]
    owner = org.by_handle[values["owner_handle"]]
    last = org.end - timedelta(seconds=1)
    recorded = min(
        decided_at + timedelta(seconds=rng.randrange(60, 4 * 86400), microseconds=rng.randrange(10**6)), last
    )
    values.update(recorded_at=recorded, updated_at=recorded)
    for column in LIFECYCLE_COLUMNS:
        values[column] = None
    if rng.random() < 0.05:
        at = min(decided_at + timedelta(days=rng.randrange(3, 60), seconds=rng.randrange(86400)), last)
        at = max(at, recorded)
        values.update(
            status="reversed", reversal_reason="Results did not justify the spend.", reversed_by=owner.handle,
            reversed_at=at, revision=values["revision"] + 1, updated_at=max(values["updated_at"], at),
        )  # fmt: skip
    review_by = values["review_by"]
    if review_by is not None and review_by < org.end and rng.random() < owner.reviews:
        at = review_by + timedelta(days=rng.randrange(0, 20), seconds=rng.randrange(8 * 3600, 20 * 3600))
        at = min(at + timedelta(microseconds=rng.randrange(10**6)), last)
        at = max(at, decided_at, recorded)
        values.update(
            outcome_result=rng.choice(OUTCOMES), outcome_notes="Reviewed in the monthly meeting.",
            outcome_actual_value=round(rng.uniform(0, 1000), 2), outcome_reviewed_by=owner.handle,
            outcome_reviewed_at=at, outcome_recorded_at=at, revision=values["revision"] + 1,
            updated_at=max(values["updated_at"], at),
        )  # fmt: skip
    return values


def stored_rows(org: Organisation, count: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` decisions as the service would hold them after three years of use (``history`` applied)."""
    generator = Generator(org, count, seed=seed)
    rng = random.Random(seed + 1)
    for body in generator.bodies():
        yield history(row(body, org, now=org.end), org, rng)


def pg_record(values: dict[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """A tuple for asyncpg (COPY or executemany): JSON columns as text, an absent document as SQL NULL
    (as the service stores it: its JSON columns have ``none_as_null``), amounts in ten-thousandths."""
    return tuple(_pg_value(values[c], c) for c in columns)


def _pg_value(value: Any, column: str) -> Any:
    if value is None:
        return None
    if column in JSON_COLUMNS:
        return json.dumps(value)
    return to_units(value) if column == "budget_amount" else value


# ---------------------------------------------------------------------------------------------
# Direct loads (outside every timed section)
# ---------------------------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def copy_into_pg(dsn: str, rows: Iterator[dict[str, Any]], *, chunk: int = 50_000, total: int = 0) -> float:
    """COPY the rows into ``decision``; secondary indexes are dropped first and rebuilt after, then
    VACUUM ANALYZE (so the visibility map is set, as on a table that has lived a while). Returns seconds."""
    columns = COLUMNS + LIFECYCLE_COLUMNS
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
        for values in rows:
            batch.append(pg_record(values, columns))
            if len(batch) == chunk:
                await connection.copy_records_to_table("decision", records=batch, columns=columns)
                done += len(batch)
                batch = []
                log(f"  copied {done:,}{f' of {total:,}' if total else ''} ({time.perf_counter() - started:.0f} s)")
        if batch:
            await connection.copy_records_to_table("decision", records=batch, columns=columns)
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
