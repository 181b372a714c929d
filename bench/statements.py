"""Which SQL statements one ``POST /v1/decisions`` runs, and whether SQLAlchemy compiled each one again.

    .venv/bin/python bench/statements.py [--requests 200]

Runs the service in this process (over httpx's ASGI transport, no network) against a fresh
PostgreSQL database and listens to the engine: for each statement, how often it ran per request and
SQLAlchemy's cache verdict (``cached`` = compiled once and reused; ``no key`` = the construct is not
cacheable, compiled on every execution; ``generated`` = compiled now, first use). Also times the
whole request in-process, so a change can be checked without the load benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
from write import BODY, OWNER, SOURCE, TEAM, create_database, create_write_key, drop_database, log

VERDICT = re.compile(r"^(cached since|generated in|no key|caching disabled|dialect \S+ does not support caching)")
LABELS = {"cached since": "cached", "generated in": "generated", "no key": "no key: compiled every time"}
SECONDS = re.compile(r"([\d.]+)s")


async def run(args: argparse.Namespace) -> None:
    pg = args.pg.rstrip("/")
    admin_url = f"{pg}/postgres"
    name = f"bench_statements_{os.getpid()}_{int(time.time())}"
    url = f"{pg}/{name}"
    await create_database(admin_url, name)
    try:
        from app.core.migrations import upgrade

        await asyncio.to_thread(upgrade, url)
        auth = "Bearer " + await create_write_key(url)
        os.environ["DECISION_LOG_DATABASE_URL"] = url
        from asgi_lifespan import LifespanManager
        from sqlalchemy import event

        from app.core.config import get_settings
        from app.main import create_app

        get_settings.cache_clear()
        app = create_app()
        seen: list[tuple[str, str, bool]] = []

        def after_execute(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, many: bool) -> None:
            seen.append((" ".join(statement.split()), context._get_cache_stats(), many))

        async with LifespanManager(app):
            event.listen(app.state.db.engine.sync_engine, "after_cursor_execute", after_execute)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers={"Authorization": auth}
            ) as client:
                (
                    await client.put(f"/v1/people/{OWNER}", json={"name": "Anna Petrova", "team": TEAM})
                ).raise_for_status()
                (
                    await client.put(f"/v1/data-sources/{SOURCE}", json={"name": "GA4", "kind": "analytics"})
                ).raise_for_status()
                for _ in range(20):
                    (await client.post("/v1/decisions", json=BODY)).raise_for_status()
                seen.clear()
                started, cpu_started = time.perf_counter(), time.process_time()
                for _ in range(args.requests):
                    response = await client.post("/v1/decisions", json=BODY)
                    assert response.status_code == 201, response.text
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        runs: Counter[str] = Counter()
        verdicts: dict[str, Counter[str]] = defaultdict(Counter)
        compile_s: dict[str, float] = defaultdict(float)
        for statement, stats, many in seen:
            key = statement[:110] + (" [executemany]" if many else "")
            runs[key] += 1
            match = VERDICT.match(stats)
            verdict = LABELS.get(match.group(1), match.group(1)) if match else stats
            verdicts[key][verdict] += 1
            if verdict in {"generated", "no key: compiled every time"}:
                seconds = SECONDS.search(stats)
                compile_s[key] += float(seconds.group(1)) if seconds else 0.0
        print(
            f"{args.requests} requests in-process (ASGI transport, client included): "
            f"{wall / args.requests * 1000:.2f} ms wall, {cpu / args.requests * 1000:.2f} ms CPU per request"
        )
        print("statements per request, SQLAlchemy's cache verdict, compile time per request when not cached:")
        for key, count in runs.items():
            verdict = ", ".join(f"{v} x{n}" for v, n in verdicts[key].items())
            compiled = f"  compile {compile_s[key] / args.requests * 1000:.3f} ms" if compile_s[key] else ""
            print(f"  {count / args.requests:4.1f}  [{verdict}]{compiled}\n        {key}")
    finally:
        await drop_database(admin_url, name)
        log(f"dropped database {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server, no db")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
