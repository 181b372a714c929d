"""The service, served by uvicorn with its own logging configuration, plus routes that only tests need: one that
fails in a way nothing maps to an answer, one that reads its body itself. ``served(log, log_format)`` runs it
(``python -m tests.core.raising_app PORT LOG_FORMAT``) for the error-log and disconnection tests."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from fastapi import Request

from app.core.observability import log_config
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
# An API key's shape in the error's message: the stack must be logged with it redacted.
SECRET = "dlk_0123456789ab_notARealKeyButShapedLikeOne"
MESSAGE = f"the test route failed on purpose (key {SECRET})"


def fail_unexpectedly() -> None:
    raise RuntimeError(MESSAGE)


async def read_body(request: Request) -> dict[str, int]:
    """Outside /v1 (no body guard): the body read by the handler itself, as a form would be."""
    return {"bytes": len(await request.body())}


app = create_app()
app.add_api_route("/test/unexpected-error", fail_unexpectedly, methods=["GET"])
app.add_api_route("/test/body", read_body, methods=["POST"])


@contextlib.contextmanager
def served(log: Path, log_format: str = "json", *, cli: bool = False) -> Iterator[int]:
    """This app in a process of its own, logging to ``log`` (``cli``: the service itself, ``decision-log serve``);
    yields its port, and stops it at the end."""
    from tests.faults.cluster import free_port

    port = free_port()
    command = (
        [str(Path(sys.executable).parent / "decision-log"), "serve", "--port", str(port)]
        if cli
        else [sys.executable, "-m", "tests.core.raising_app", str(port), log_format]
    )
    env = {**os.environ, "DECISION_LOG_LOG_FORMAT": log_format}
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    port, log_format = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=log_config("INFO", log_format), access_log=False)
