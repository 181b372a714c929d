"""Count the database round trips of one ``POST /v1/decisions``, for the service and the raw baseline.

    .venv/bin/python bench/roundtrips.py [--requests 50]

Puts a small PostgreSQL wire-protocol proxy between each server and the database and reads the
messages that cross it: every ReadyForQuery the server sends ends one round trip; Parse messages
are statements being prepared (they should vanish once the caches are warm). Prints the per-request
averages and the statements of one request, in order. Same set-up as ``bench/write.py``: a fresh
database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
from write import BODY, environment, free_port

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104


class Tap:
    """What crossed the proxy: message counts and the round trips, each labelled with its statement."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.trips: list[str] = []
        self.statements: dict[bytes, str] = {}  # prepared-statement name -> SQL

    def reset(self) -> None:
        self.counts.clear()
        self.trips.clear()


class FrontendParser:
    """Client -> server messages. The first ones (SSLRequest, StartupMessage) carry no type byte."""

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self.buffer = b""
        self.started = False
        self.pending: list[str] = []  # what the current round trip does

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                (length,) = struct.unpack("!I", self.buffer[:4])
                if len(self.buffer) < length:
                    return
                (code,) = struct.unpack("!I", self.buffer[4:8])
                self.buffer = self.buffer[length:]
                if code not in (SSL_REQUEST, GSS_REQUEST):
                    self.started = True
                continue
            if len(self.buffer) < 5:
                return
            kind = chr(self.buffer[0])
            (length,) = struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            payload, self.buffer = self.buffer[5 : 1 + length], self.buffer[1 + length :]
            self.message(kind, payload)

    def message(self, kind: str, payload: bytes) -> None:
        tap = self.tap
        tap.counts[kind] += 1
        if kind == "Q":
            self.pending.append("query " + payload.rstrip(b"\0").decode(errors="replace"))
        elif kind == "P":
            name, rest = payload.split(b"\0", 1)
            sql = rest.split(b"\0", 1)[0].decode(errors="replace")
            tap.statements[name] = sql
            self.pending.append("parse " + sql)
        elif kind == "B":
            _portal, rest = payload.split(b"\0", 1)
            name = rest.split(b"\0", 1)[0]
            self.pending.append("execute " + tap.statements.get(name, f"<{name.decode()}>"))

    def take(self) -> str:
        label = " + ".join(dict.fromkeys(self.pending)) or "(nothing)"
        self.pending.clear()
        return label


class BackendParser:
    """Server -> client messages; a ReadyForQuery ('Z') closes a round trip."""

    def __init__(self, tap: Tap, frontend: FrontendParser) -> None:
        self.tap = tap
        self.frontend = frontend
        self.buffer = b""
        self.ssl_answered = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.ssl_answered and not self.frontend.started and self.buffer[:1] in (b"N", b"S", b"G"):
            self.buffer = self.buffer[1:]  # the one-byte answer to SSLRequest
            self.ssl_answered = True
        while len(self.buffer) >= 5:
            kind = chr(self.buffer[0])
            (length,) = struct.unpack("!I", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            self.buffer = self.buffer[1 + length :]
            if kind == "Z":
                self.tap.counts["round trips"] += 1
                self.tap.trips.append(self.frontend.take())


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: Any) -> None:
    try:
        while data := await reader.read(65536):
            parser.feed(data)
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def start_proxy(tap: Tap, upstream_host: str, upstream_port: int) -> tuple[asyncio.Server, int]:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(upstream_host, upstream_port)
        frontend = FrontendParser(tap)
        backend = BackendParser(tap, frontend)
        await asyncio.gather(pump(client_reader, server_writer, frontend), pump(server_reader, client_writer, backend))

    port = free_port()
    return await asyncio.start_server(handle, "127.0.0.1", port), port


async def measure(url: str, auth: str, tap: Tap, requests: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": auth}) as client:
        for _ in range(20):  # warm: pool, statement caches, the key cache
            (await client.post("/v1/decisions", json=BODY)).raise_for_status()
        await asyncio.sleep(0.2)
        tap.reset()
        for _ in range(requests):
            (await client.post("/v1/decisions", json=BODY)).raise_for_status()
            await asyncio.sleep(0.01)  # let late messages (e.g. a reset on pool return) arrive
        await asyncio.sleep(0.2)
        totals = dict(tap.counts)
        trips = list(tap.trips)
    per_request = {k: v / requests for k, v in sorted(totals.items())}
    one = trips[-round(per_request.get("round trips", 0)) :] if trips else []
    return {"per_request": per_request, "one_request": one}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server, no db")
    args = parser.parse_args()
    pg = args.pg.rstrip("/")
    upstream = urlsplit(pg)
    taps = {"app": Tap(), "raw": Tap()}
    # The proxies run on their own event loop in a thread, for as long as the servers live.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    ports = {
        target: asyncio.run_coroutine_threadsafe(
            start_proxy(tap, upstream.hostname or "127.0.0.1", upstream.port or 5432), loop
        ).result()[1]
        for target, tap in taps.items()
    }

    def via_proxy(target: str, url: str) -> str:
        return urlsplit(url)._replace(netloc=f"{upstream.username or 'postgres'}@127.0.0.1:{ports[target]}").geturl()

    with environment(pg, prefix="bench_roundtrips", dsn_for=via_proxy, access_log=False) as env:
        for target, server in env.servers.items():
            future = asyncio.run_coroutine_threadsafe(
                measure(server.base_url, env.auth, taps[target], args.requests), loop
            )
            result = future.result()
            print(f"\n{target}: per request (average of {args.requests} sequential requests, caches warm)")
            for kind, value in result["per_request"].items():
                print(f"  {kind:<12} {value:6.2f}")
            print("  the round trips of one request:")
            for i, trip in enumerate(result["one_request"], 1):
                print(f"    {i}. {' '.join(trip.split())[:160]}")
    loop.call_soon_threadsafe(loop.stop)


if __name__ == "__main__":
    main()
