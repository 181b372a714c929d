"""A real HTTP receiver on loopback, and an app whose dispatcher delivers to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_client


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server in a thread: records every POST and answers with the next of ``answers`` (then 200)."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    delay: float = 0.0
    delays: list[float] = field(default_factory=list)  # per request, before `delay` applies

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    async def wait_for(self, count: int, within: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} requests received, {count} expected")
            await asyncio.sleep(0.02)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            this = state["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            this.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            delay = this.delays.pop(0) if this.delays else this.delay
            if delay:
                time.sleep(delay)
            status = this.answers.pop(0) if this.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()


DISPATCHING = {
    "webhook_poll_interval_seconds": 0.05,
    "webhook_allow_private_targets": True,
    "webhook_retry_schedule": [0.2, 0.2, 0.2],
    "webhook_timeout_seconds": 2.0,
}


@pytest.fixture
def dispatching_app(settings: Settings, keys: dict[str, str]) -> Callable[..., Any]:
    """``async with dispatching_app(**settings) as admin:`` an app whose dispatcher runs, and an admin client."""

    def make(**overrides: Any) -> Any:
        return _running(settings.model_copy(update={**DISPATCHING, **overrides}), keys["admin"])

    return make


class _running:
    def __init__(self, settings: Settings, key: str) -> None:
        self.app = create_app(settings)
        self.key = key
        self.manager = LifespanManager(self.app)
        self.client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        await self.manager.__aenter__()
        self.client = make_client(self.app, self.key)
        return self.client

    async def __aexit__(self, *exc: Any) -> None:
        assert self.client is not None
        await self.client.aclose()
        await self.manager.__aexit__(*exc)


@pytest.fixture
async def admin(app_instance: object, keys: dict[str, str], db: object) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app_instance, keys["admin"]) as c:
        yield c
