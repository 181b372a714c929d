"""Webhooks bench: N events through one subscription to a local receiver, deliveries per second.

    .venv/bin/python bench/webhooks.py                              # SQLite, 10,000 events
    .venv/bin/python bench/webhooks.py --pg postgresql://postgres@127.0.0.1:5432/postgres --events 10000

A fresh database (migrated), the app with its dispatcher (poll every 0.05 s, default concurrency and timeout),
one subscription to a receiver on loopback (a threaded HTTP server answering 204), then N events written in
transactions of 1,000 (person upserts' events, through the outbox's own ``emit``). Timed: from the first event's
commit to the receiver's N-th request. Prints events, seconds, deliveries per second and the dispatcher's
attempts, and writes ``bench/results/webhooks.json``.

Not measured here yet: the write path's throughput with a subscription against without one (the hot path's
``decision.recorded`` is not emitted yet).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pg", help="a PostgreSQL server URL: a database is created there for the run")
    args = parser.parse_args()
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
