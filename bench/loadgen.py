"""A lean HTTP/1.1 load generator for ``bench/write.py``: raw asyncio streams, keep-alive, one request
prebuilt as bytes and sent again and again. Used for the unloaded latency and as the throughput driver
when ``wrk`` is not installed. Run in its own process; prints one JSON object.

    python bench/loadgen.py --port 8000 --path /v1/decisions --body-file body.json \\
        --header 'Authorization: Bearer …' --connections 32 --seconds 15
    python bench/loadgen.py … --connections 1 --requests 500          # sequential latency
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def build_request(host: str, port: int, path: str, body: bytes, headers: list[str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response; returns its status. Only Content-Length framing (what uvicorn sends here)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at < 0:
        raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
    end = lower.index(b"\r\n", at + 2)
    length = int(lower[at + 17 : end])
    if length:
        await reader.readexactly(length)
    return status


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


class Run:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.recording = False


async def client(host: str, port: int, request: bytes, run: Run, *, stop: float | None, count: int | None) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    done = 0
    clock = time.perf_counter
    try:
        while (stop is None or clock() < stop) and (count is None or done < count):
            started = clock()
            writer.write(request)
            try:
                status = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                run.errors[type(error).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            if run.recording:
                run.latencies.append(clock() - started)
                run.statuses[status] += 1
            done += 1
    finally:
        writer.close()


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    request = build_request(args.host, args.port, args.path, args.body, args.header)
    run = Run()
    if args.warmup > 0:  # warm the server's pools and caches, unrecorded
        stop = time.perf_counter() + args.warmup
        await asyncio.gather(
            *(client(args.host, args.port, request, run, stop=stop, count=None) for _ in range(args.connections))
        )
    run.recording = True
    started = time.perf_counter()
    if args.requests:
        per_client = -(-args.requests // args.connections)
        await asyncio.gather(
            *(client(args.host, args.port, request, run, stop=None, count=per_client) for _ in range(args.connections))
        )
    else:
        stop = started + args.seconds
        await asyncio.gather(
            *(client(args.host, args.port, request, run, stop=stop, count=None) for _ in range(args.connections))
        )
    elapsed = time.perf_counter() - started
    latencies = sorted(run.latencies)
    ok = sum(n for status, n in run.statuses.items() if 200 <= status < 300)
    result: dict[str, Any] = {
        "generator": "python",
        "connections": args.connections,
        "seconds": elapsed,
        "requests": len(latencies),
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "errors": dict(run.errors),
        "rps": ok / elapsed if elapsed else 0.0,
        "latency_ms": {
            "p50": percentile(latencies, 50) * 1000,
            "p90": percentile(latencies, 90) * 1000,
            "p99": percentile(latencies, 99) * 1000,
            "max": (latencies[-1] * 1000) if latencies else float("nan"),
            "mean": (sum(latencies) / len(latencies) * 1000) if latencies else float("nan"),
        },
    }
    if args.samples:
        result["samples_ms"] = [round(x * 1000, 4) for x in run.latencies]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/decisions")
    parser.add_argument("--body-file")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--requests", type=int, default=0, help="a fixed number instead of --seconds")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds of unrecorded load first")
    parser.add_argument("--samples", action="store_true", help="include every latency, in ms")
    args = parser.parse_args()
    args.body = Path(args.body_file).read_bytes() if args.body_file else b""
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(drive(args))
    else:
        result = uvloop.run(drive(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
