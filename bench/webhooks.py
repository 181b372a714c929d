"""Webhooks bench: N events through one subscription to a local receiver, deliveries per second.

    .venv/bin/python bench/webhooks.py                              # SQLite, 10,000 events
    .venv/bin/python bench/webhooks.py --pg postgresql://postgres@127.0.0.1:5432/postgres --events 10000

A fresh database (migrated), the app with its dispatcher (poll every 0.05 s, default concurrency and timeout),
one subscription to a receiver on loopback (a threaded HTTP server answering 204), then N events written in
transactions of 1,000 (person upserts' events, through the outbox's own ``emit``). Timed: from the first event's
commit to the receiver's N-th request. Prints events, seconds, deliveries per second and the dispatcher's
attempts, and writes ``bench/results/webhooks.json``.

With ``--writes``, the write path instead: ``POST /v1/decisions`` under load (bench/write.py's generator, 32
clients) against two services started the same way (``decision-log serve``, one worker, default dispatcher
settings), each on a fresh PostgreSQL database of its own; one has a subscription to ``decision.recorded`` with
a receiver on loopback (every new decision delivered), the other none. Rounds alternate which goes first. Prints
each one's requests per second and CPU per request, the ratio (goal: with at least 0.9 times without), the
deliveries still pending when each round's load stopped and how long the dispatcher then took to catch up;
writes ``bench/results/webhook-writes.json``.

    .venv/bin/python bench/webhooks.py --writes --rounds 3 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy.engine import make_url

from app.auth.scopes import Scope
from app.auth.service import create_key
from app.core.config import Settings
from app.core.migrations import upgrade
from app.core.unit_of_work import transaction
from app.events import service as events
from app.events.schemas import EventType
from app.main import create_app
from app.webhooks.crypto import new_key

RESULTS = Path(__file__).parent / "results"


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()


def receiver(counter: Counter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with counter.lock:
                counter.count += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def run(url: str, total: int) -> dict[str, Any]:
    settings = Settings(
        database_url=url,
        webhook_secret_key=new_key(),
        webhook_allow_private_targets=True,
        webhook_poll_interval_seconds=0.05,
        integrity_seal_interval_seconds=0,
        rollup_fold_interval_seconds=0,
        review_scan_interval_seconds=0,
        digest_check_interval_seconds=0,
        rate_limit="",
    )
    counter = Counter()
    server = receiver(counter)
    app = create_app(settings)
    async with LifespanManager(app):
        db = app.state.db
        async with transaction(db, writes=True) as session:
            _, key = await create_key(session, name="bench", scope=Scope.admin)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", headers={"Authorization": f"Bearer {key}"}
        ) as admin:
            target = f"http://127.0.0.1:{server.server_address[1]}/hook"
            response = await admin.post("/v1/webhooks", json={"url": target, "events": ["*"]})
            assert response.status_code == 201, response.text
        started = time.perf_counter()
        for start in range(0, total, 1000):
            async with transaction(db, writes=True) as session:
                batch = [
                    events.NewEvent(EventType.person_updated, f"person/p{n}", {"person": {"handle": f"p{n}"}})
                    for n in range(start, min(total, start + 1000))
                ]
                await events.emit(session, *batch)
        written = time.perf_counter() - started
        while counter.count < total:  # noqa: ASYNC110 (the receiver counts in its own threads)
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
    server.shutdown()
    return {
        "engine": make_url(url).get_backend_name(),
        "events": total,
        "write_seconds": round(written, 3),
        "delivery_seconds": round(elapsed, 3),
        "deliveries_per_second": round(total / elapsed, 1),
        "concurrency": settings.webhook_max_concurrency,
    }


async def _key(url: str, scope: Scope) -> str:
    from app.core.unit_of_work import Database

    database = Database(Settings(database_url=url))
    try:
        async with database.sessionmaker() as session, session.begin():
            _, key = await create_key(session, name=f"bench-{scope.value}", scope=scope)
    finally:
        await database.dispose()
    return key


async def _decisions(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM decision"))
    finally:
        await connection.close()


def writes(args: argparse.Namespace) -> dict[str, Any]:
    """The write path's throughput with one subscription against without one, in the same rounds."""
    import write  # bench/write.py: its servers, load generator and measures

    generator = write.choose_generator("auto")
    pg = (args.pg or "postgresql://postgres@127.0.0.1:5432").rstrip("/")
    admin_url = f"{pg}/postgres"
    counter = Counter()
    hook_server = receiver(counter)
    target = f"http://127.0.0.1:{hook_server.server_address[1]}/hook"
    stem = f"bench_hooks_{os.getpid()}"
    urls = {name: f"{pg}/{stem}_{name}" for name in ("plain", "hooked")}
    servers: dict[str, Any] = {}
    secret = new_key()
    body_file = RESULTS / "write-body.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    body_file.write_text(json.dumps(write.BODY))
    try:
        auth: dict[str, str] = {}
        for name, url in urls.items():
            asyncio.run(_admin(admin_url, f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
            upgrade(url)
            auth[name] = "Bearer " + asyncio.run(_key(url, Scope.admin))
            port = write.free_port()
            env = {
                "DECISION_LOG_DATABASE_URL": url,
                "DECISION_LOG_RATE_LIMIT": "100000000/minute",
                "DECISION_LOG_WEBHOOK_SECRET_KEY": secret,
                "DECISION_LOG_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                "DECISION_LOG_DIGEST_CHECK_INTERVAL_SECONDS": "0",
            }
            command = [str(write.BIN / "decision-log"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            servers[name] = write.Server(f"webhooks-{name}", command, env, port)
        for name, server in servers.items():
            server.wait_ready()
            with httpx.Client(base_url=server.base_url, headers={"Authorization": auth[name]}) as client:
                client.put(f"/v1/people/{write.OWNER}", json={"name": "Anna Petrova", "team": write.TEAM})
                client.put(f"/v1/data-sources/{write.SOURCE}", json={"name": "GA4", "kind": "analytics"})
                if name == "hooked":
                    answer = client.post("/v1/webhooks", json={"url": target, "events": ["decision.recorded"]})
                    answer.raise_for_status()
        load = argparse.Namespace(warmup=args.warmup, seconds=args.seconds, connections=args.connections)
        runs: dict[str, list[dict[str, Any]]] = {"plain": [], "hooked": []}
        catch_up: list[dict[str, Any]] = []
        for round_no in range(args.rounds):
            order = ["plain", "hooked"] if round_no % 2 == 0 else ["hooked", "plain"]
            for name in order:
                result = write.throughput(servers[name], body_file, auth[name], urls[name], load, generator)
                runs[name].append(result)
                if name == "hooked":  # every decision written (warm-ups included) is one delivery
                    written = asyncio.run(_decisions(urls[name]))
                    pending, started = written - counter.count, time.perf_counter()
                    while counter.count < written and time.perf_counter() - started < 300:
                        time.sleep(0.05)
                    catch_up.append(
                        {
                            "pending_at_stop": pending,
                            "seconds_to_catch_up": round(time.perf_counter() - started, 2),
                            "delivered": counter.count,
                            "written": written,
                        }
                    )
                write.log(
                    f"round {round_no + 1}/{args.rounds} {name}: {result['rps']:,.0f} req/s, "
                    f"{result['server_cpu_ms_per_request']:.2f} ms server CPU/request"
                    + (f", {catch_up[-1]}" if name == "hooked" else "")
                )
    finally:
        for server in servers.values():
            server.stop()
        hook_server.shutdown()
        for url in urls.values():
            asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    ratios = [h["rps"] / p["rps"] for p, h in zip(runs["plain"], runs["hooked"], strict=True)]
    total = {name: sum(r["rps"] for r in rows) / len(rows) for name, rows in runs.items()}
    cpu = {name: sum(r["server_cpu_ms_per_request"] for r in rows) / len(rows) for name, rows in runs.items()}
    return {
        "mode": "writes",
        "generator": generator,
        "rounds": args.rounds,
        "seconds": args.seconds,
        "connections": args.connections,
        "rps": {name: round(value, 1) for name, value in total.items()},
        "server_cpu_ms_per_request": {name: round(value, 3) for name, value in cpu.items()},
        "ratio": round(total["hooked"] / total["plain"], 3),
        "ratio_by_round": [round(r, 3) for r in ratios],
        "catch_up": catch_up,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL: a database is created there for the run")
    parser.add_argument("--writes", action="store_true", help="the write path with a subscription against without")
    parser.add_argument("--rounds", type=int, default=3, help="--writes: rounds, each service once per round")
    parser.add_argument("--seconds", type=float, default=10.0, help="--writes: measured load per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="--writes: unmeasured load before each run")
    parser.add_argument("--connections", type=int, default=32, help="--writes: concurrent keep-alive clients")
    args = parser.parse_args()
    if args.writes:
        report = writes(args)
        summary = {k: v for k, v in report.items() if k != "runs"}
        print(json.dumps(summary, indent=2))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "webhook-writes.json").write_text(json.dumps(report, indent=2) + "\n")
        return
    if args.pg:
        server = make_url(args.pg)
        name = f"decision_log_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(args.pg, f'CREATE DATABASE "{name}"'))
        try:
            url = server.set(database=name).render_as_string(hide_password=False)
            upgrade(url)
            result = asyncio.run(run(url, args.events))
        finally:
            asyncio.run(_admin(args.pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{os.path.join(directory, 'bench.db')}"
            upgrade(url)
            result = asyncio.run(run(url, args.events))
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhooks.json").write_text(json.dumps(result, indent=2) + "\n")


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
