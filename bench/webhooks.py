"""Webhooks bench: N events through one subscription to a local receiver (deliveries per second, CPU per delivery),
and the write path with a subscription against without one, in the same run.

    .venv/bin/python bench/webhooks.py --events 10000 --against 79567dc                  # SQLite
    .venv/bin/python bench/webhooks.py --pg postgresql://postgres@127.0.0.1:5432 --events 10000 --against 79567dc
    .venv/bin/python bench/webhooks.py --writes [--pg postgresql://postgres@127.0.0.1:5432] --rounds 3 --seconds 10

The receiver is a process of its own (asyncio, HTTP/1.1 keep-alive, answering 204 to every POST, counting them),
so that it takes no CPU from the dispatcher it measures.

**Deliveries** (default): for each round and each dispatcher, alternating which goes first: a fresh database
(SQLite file, or a PostgreSQL database made for it), migrated, one subscription to every event type, N events
written in transactions of 1,000 (person upserts' events, through the outbox's own ``emit``); then the dispatcher
starts as a process of its own (``decision-log dispatch``: poll 0.05 s, the default concurrency and timeout) and
delivers them. Timed from the receiver's first request to its N-th (the process's start-up apart): deliveries per
second, and the dispatcher's CPU per delivery over the same span (from /proc). ``--against REV`` adds the
dispatcher of that revision (its files exported by ``git archive``, run alone in a process by the same settings)
to every round. Writes ``bench/results/webhooks.json``.

**Writes** (``--writes``): ``POST /v1/decisions`` under load (bench/write.py's body and load generator, 32
clients) against services started alike (``decision-log serve``, one worker), each on a fresh database of its
own: ``plain`` has no subscription; ``in-process`` has one to ``decision.recorded`` (every new decision
delivered) and delivers from its own process (``WEBHOOK_DISPATCH=in-process``, the default); ``separate`` has the
same subscription, its web worker started with ``WEBHOOK_DISPATCH=separate`` and one ``decision-log dispatch``
beside it. Rounds rotate the order. Prints each one's requests per second, the web worker's CPU per request (and
the dispatcher's, when separate), the ratios to ``plain`` in the same rounds (goal: at least 0.9), and the
deliveries still pending when each loaded run stopped and how long they then took; writes
``bench/results/webhook-writes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/write.py, when run as a script
import write

from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.unit_of_work import Database, transaction
from app.events import service as events
from app.events.schemas import EventType
from app.webhooks import service as webhooks
from app.webhooks.crypto import new_key
from app.webhooks.schemas import WebhookCreate

RESULTS = Path(__file__).parent / "results"
SECRET = new_key()
# Runs the dispatcher of another revision alone (its Dispatcher's constructor, run, stop and close, which every
# revision since webhooks landed has), with the settings of the environment, until SIGTERM.
OLD_DISPATCHER = """
import asyncio, signal
from app.core.config import get_settings
from app.core.unit_of_work import Database
from app.webhooks.dispatcher import Dispatcher

async def main():
    settings = get_settings()
    database = Database(settings)
    dispatcher = Dispatcher(database)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.create_task(dispatcher.run(settings.webhook_poll_interval_seconds))
    await stop.wait()
    await dispatcher.stop(task, 5)
    task.cancel()
    await dispatcher.close()
    await database.dispose()

asyncio.run(main())
"""


# ---------------------------------------------------------------------------------------------
# The receiver: a process of its own
# ---------------------------------------------------------------------------------------------


def _serve_receiver(port: Any, count: Any, ready: Any) -> None:
    class Receiver(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                length = 0
                for line in self.buffer[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(self.buffer) < end + 4 + length:
                    return
                self.buffer = self.buffer[end + 4 + length :]
                with count.get_lock():
                    count.value += 1
                self.transport.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def receiver() -> Iterator[tuple[str, Any, int]]:
    """(the URL to post to, the shared count of requests received, the receiver's pid)."""
    context = multiprocessing.get_context("spawn")
    port, count, ready = context.Value("i", 0), context.Value("q", 0), context.Event()
    process = context.Process(target=_serve_receiver, args=(port, count, ready), daemon=True)
    process.start()
    ready.wait(30)
    try:
        yield f"http://127.0.0.1:{port.value}/hook", count, process.pid or 0
    finally:
        process.terminate()
        process.join(10)


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


class Databases:
    """Fresh databases for the run (SQLite files in a temporary directory, or PostgreSQL databases), dropped at
    the end."""

    def __init__(self, pg: str | None) -> None:
        self.pg = pg.rstrip("/") if pg else None
        self.directory = tempfile.TemporaryDirectory(prefix="bench-webhooks-")
        self.made: list[str] = []

    def new(self, name: str) -> str:
        stem = f"dispatch_bench_{os.getpid()}_{name}_{len(self.made)}"
        if self.pg is None:
            url = f"sqlite:///{Path(self.directory.name) / stem}.db"
        else:
            asyncio.run(_admin(f"{self.pg}/postgres", f'CREATE DATABASE "{stem}"'))
            url = f"{self.pg}/{stem}"
        self.made.append(stem)
        upgrade(url)
        return url

    def drop(self) -> None:
        if self.pg is not None:
            for stem in self.made:
                asyncio.run(_admin(f"{self.pg}/postgres", f'DROP DATABASE IF EXISTS "{stem}" WITH (FORCE)'))
        self.directory.cleanup()


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def count_decisions(url: str) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return int(connection.execute("SELECT count(*) FROM decision").fetchone()[0])

    async def count() -> int:
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM decision"))
        finally:
            await connection.close()

    return asyncio.run(count())


def environment(url: str, **extra: str) -> dict[str, str]:
    return {
        "DECISION_LOG_DATABASE_URL": url,
        "DECISION_LOG_RATE_LIMIT": "",
        "DECISION_LOG_WEBHOOK_SECRET_KEY": SECRET,
        "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "DECISION_LOG_DIGEST_CHECK_INTERVAL_SECONDS": "0",
        "DECISION_LOG_REVIEW_SCAN_INTERVAL_SECONDS": "0",
        "DECISION_LOG_LOG_LEVEL": "WARNING",
        **extra,
    }


# ---------------------------------------------------------------------------------------------
# Deliveries per second
# ---------------------------------------------------------------------------------------------


async def _prepare(url: str, target: str, total: int) -> None:
    """One subscription to every event type, then ``total`` events written in transactions of 1,000."""
    database = Database(Settings(database_url=url, webhook_secret_key=SECRET, webhook_allow_private_targets=True))
    try:
        async with transaction(database, writes=True) as session:
            await webhooks.create_webhook(session, WebhookCreate(url=target, events=["*"]))
        for start in range(0, total, 1000):
            async with transaction(database, writes=True) as session:
                await events.emit(
                    session,
                    *(
                        events.NewEvent(EventType.person_updated, f"person/p{n}", {"person": {"handle": f"p{n}"}})
                        for n in range(start, min(total, start + 1000))
                    ),
                )
    finally:
        await database.dispose()


def _deliver(name: str, command: list[str], env: dict[str, str], cwd: Path, count: Any, total: int) -> dict[str, Any]:
    log_path = RESULTS / f"webhooks-{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=log_file, stderr=log_file)
        try:
            deadline = time.monotonic() + 600
            while count.value == 0:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: no delivery; see {log_path}")
                time.sleep(0.002)
            first, cpu_first, delivered_first = time.perf_counter(), write.process_cpu(process.pid), count.value
            while count.value < total:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name}: {count.value} of {total} delivered; see {log_path}")
                time.sleep(0.002)
            last, cpu_last = time.perf_counter(), write.process_cpu(process.pid)
        finally:
            process.terminate()
            process.wait(30)
    span = total - delivered_first
    return {
        "dispatcher": name,
        "events": total,
        "seconds": round(last - first, 3),
        "deliveries_per_second": round(span / (last - first), 1),
        "cpu_ms_per_delivery": round((cpu_last - cpu_first) / span * 1000, 3),
    }


def deliveries(args: argparse.Namespace) -> dict[str, Any]:
    contenders: dict[str, tuple[list[str], dict[str, str], Path]] = {
        "current": ([str(write.BIN / "decision-log"), "dispatch"], {}, write.ROOT),
    }
    trees = tempfile.TemporaryDirectory(prefix="bench-webhooks-rev-")
    if args.against:
        tree = write.export(args.against, Path(trees.name))
        # Run from the exported tree: its `app` package, not this one's.
        contenders[args.against] = ([sys.executable, "-c", OLD_DISPATCHER], {"PYTHONPATH": str(tree)}, tree)
    databases = Databases(args.pg)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    busy_before, total_before = write.machine_cpu()
    try:
        for round_no in range(args.rounds):
            names = list(contenders)
            names = names[round_no % len(names) :] + names[: round_no % len(names)]
            for name in names:
                command, extra, cwd = contenders[name]
                with receiver() as (target, count, _):
                    url = databases.new(name.replace("-", "_"))
                    asyncio.run(_prepare(url, target, args.events))
                    env = environment(url, DECISION_LOG_WEBHOOK_POLL_INTERVAL_SECONDS="0.05", **extra)
                    result = _deliver(name, command, env, cwd, count, args.events)
                runs[name].append(result)
                write.log(f"round {round_no + 1}/{args.rounds} {name}: {result}")
    finally:
        databases.drop()
        trees.cleanup()
    busy_after, total_after = write.machine_cpu()
    summary: dict[str, Any] = {
        "engine": "postgresql" if args.pg else "sqlite",
        "events": args.events,
        "rounds": args.rounds,
        "machine_busy_cores": round(
            (busy_after - busy_before) / (total_after - total_before) * (os.cpu_count() or 1), 2
        ),
    }
    for name, rows in runs.items():
        summary[name] = {
            "deliveries_per_second": [r["deliveries_per_second"] for r in rows],
            "cpu_ms_per_delivery": [r["cpu_ms_per_delivery"] for r in rows],
        }
    if args.against:
        cur, old = runs["current"], runs[args.against]
        summary["throughput_ratio_by_round"] = [
            round(c["deliveries_per_second"] / o["deliveries_per_second"], 2) for c, o in zip(cur, old, strict=True)
        ]
        summary["cpu_ratio_by_round"] = [
            round(c["cpu_ms_per_delivery"] / o["cpu_ms_per_delivery"], 2) for c, o in zip(cur, old, strict=True)
        ]
    return {"summary": summary, "runs": runs}


# ---------------------------------------------------------------------------------------------
# The write path with a subscription against without
# ---------------------------------------------------------------------------------------------


def _load(server: Any, auth: str, url: str, args: argparse.Namespace, body: Path, helpers: list[Any]) -> dict[str, Any]:
    write.run_python(server, body, auth, connections=args.connections, seconds=args.warmup)
    time.sleep(write.DRAIN)
    rows_before = count_decisions(url)
    cpu_before = write.process_cpu(server.process.pid)
    helper_before = sum(write.process_cpu(p.pid) for p in helpers)
    busy_before, total_before = write.machine_cpu()
    result = write.run_python(server, body, auth, connections=args.connections, seconds=args.seconds)
    busy_after, total_after = write.machine_cpu()
    time.sleep(write.DRAIN)
    rows = count_decisions(url) - rows_before
    result["rows_written"] = rows
    result["server_cpu_ms_per_request"] = (write.process_cpu(server.process.pid) - cpu_before) / rows * 1000
    if helpers:
        helper_cpu = sum(write.process_cpu(p.pid) for p in helpers) - helper_before
        result["dispatcher_cpu_ms_per_request"] = helper_cpu / rows * 1000
    result["machine_busy_cores"] = (busy_after - busy_before) / (total_after - total_before) * (os.cpu_count() or 1)
    return result


def writes(args: argparse.Namespace) -> dict[str, Any]:
    """The write path's throughput with one subscription (delivered in-process, or by a separate dispatcher)
    against without one, in the same rounds."""
    from app.auth.scopes import Scope

    databases = Databases(args.pg)
    body = RESULTS / "write-body.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    body.write_text(json.dumps(write.BODY))
    names = ["plain", "in-process", "separate"]
    servers: dict[str, Any] = {}
    helpers: dict[str, list[Any]] = {name: [] for name in names}
    urls: dict[str, str] = {}
    auth: dict[str, str] = {}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    catch_up: dict[str, list[dict[str, Any]]] = {"in-process": [], "separate": []}
    with receiver() as (target, count, _):
        try:
            for name in names:
                urls[name] = url = databases.new(name.replace("-", "_"))
                auth[name] = "Bearer " + asyncio.run(_key(url, Scope.admin))
                dispatch = "separate" if name == "separate" else "in-process"
                env = environment(url, DECISION_LOG_WEBHOOK_DISPATCH=dispatch)
                port = write.free_port()
                command = [str(write.BIN / "decision-log"), "serve", "--host", "127.0.0.1", "--port", str(port)]
                servers[name] = write.Server(f"webhooks-{name}", command, env, port)
                if name == "separate":
                    dispatcher = write.Server(
                        "webhooks-dispatcher", [str(write.BIN / "decision-log"), "dispatch"], env, 0
                    )
                    helpers[name].append(dispatcher.process)
                    servers["dispatcher"] = dispatcher
            for name in names:
                server = servers[name]
                server.wait_ready()
                with httpx.Client(base_url=server.base_url, headers={"Authorization": auth[name]}) as client:
                    client.put(f"/v1/people/{write.OWNER}", json={"name": "Anna Petrova", "team": write.TEAM})
                    client.put(f"/v1/data-sources/{write.SOURCE}", json={"name": "GA4", "kind": "analytics"})
                    if name != "plain":
                        answer = client.post("/v1/webhooks", json={"url": target, "events": ["decision.recorded"]})
                        answer.raise_for_status()
            for round_no in range(args.rounds):
                order = names[round_no % 3 :] + names[: round_no % 3]
                for name in order:
                    result = _load(servers[name], auth[name], urls[name], args, body, helpers[name])
                    runs[name].append(result)
                    line = (
                        f"round {round_no + 1}/{args.rounds} {name}: {result['rps']:,.0f} req/s, "
                        f"{result['server_cpu_ms_per_request']:.2f} ms web CPU/request"
                    )
                    if name != "plain":
                        # Every decision either subscribed service wrote is one delivery (the other's were all
                        # delivered before this run began).
                        expected = sum(count_decisions(urls[n]) for n in catch_up)
                        pending, started = expected - count.value, time.perf_counter()
                        while count.value < expected and time.perf_counter() - started < 300:
                            time.sleep(0.05)
                        catch_up[name].append(
                            {
                                "pending_at_stop": pending,
                                "seconds_to_catch_up": round(time.perf_counter() - started, 2),
                                "all_delivered": count.value >= expected,
                            }
                        )
                        line += f", {catch_up[name][-1]}"
                    write.log(line)
            delivered = count.value
        finally:
            for server in servers.values():
                server.stop()
            databases.drop()
    rps = {name: sum(r["rps"] for r in rows) / len(rows) for name, rows in runs.items()}
    summary: dict[str, Any] = {
        "engine": "postgresql" if args.pg else "sqlite",
        "generator": "python",
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "delivered": delivered,
        "rps": {name: round(value, 1) for name, value in rps.items()},
        "web_cpu_ms_per_request": {
            name: round(sum(r["server_cpu_ms_per_request"] for r in rows) / len(rows), 3) for name, rows in runs.items()
        },
        "dispatcher_cpu_ms_per_request": round(
            sum(r["dispatcher_cpu_ms_per_request"] for r in runs["separate"]) / len(runs["separate"]), 3
        ),
        "machine_busy_cores": round(
            sum(r["machine_busy_cores"] for rows in runs.values() for r in rows) / (3 * args.rounds), 2
        ),
    }
    for name in ("in-process", "separate"):
        summary[f"ratio_{name}"] = round(rps[name] / rps["plain"], 3)
        summary[f"ratio_{name}_by_round"] = [
            round(h["rps"] / p["rps"], 3) for p, h in zip(runs["plain"], runs[name], strict=True)
        ]
    summary["catch_up"] = catch_up
    return {"summary": summary, "runs": runs}


async def _key(url: str, scope: Any) -> str:
    from app.auth.service import create_key

    database = Database(Settings(database_url=url))
    try:
        async with database.sessionmaker() as session, session.begin():
            _, key = await create_key(session, name=f"bench-{scope.value}", scope=scope)
    finally:
        await database.dispose()
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL (no database): databases are made there for the run")
    parser.add_argument("--against", help="deliveries: also run the dispatcher of this revision, same rounds")
    parser.add_argument("--writes", action="store_true", help="the write path with a subscription against without")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each contender once per round")
    parser.add_argument("--seconds", type=float, default=10.0, help="--writes: measured load per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="--writes: unmeasured load before each run")
    parser.add_argument("--connections", type=int, default=32, help="--writes: concurrent keep-alive clients")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    report = writes(args) if args.writes else deliveries(args)
    print(json.dumps(report["summary"], indent=2))
    name = "webhook-writes" if args.writes else "webhooks"
    engine = "pg" if args.pg else "sqlite"
    (RESULTS / f"{name}-{engine}.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
