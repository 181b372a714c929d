"""The request log of a served process: one JSON line per request, by route template; API keys never reach
a log line, not even when a BI tool sends one as `api_key=`."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import DATABASE_URL

CLI = str(Path(sys.executable).parent / "decision-log")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _served(log: Path, **settings: str) -> Iterator[str]:
    """A served process writing its log to ``log``; yields its base URL, and stops it at the end."""
    port = _free_port()
    env = {**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL, **settings}
    with log.open("w") as out:
        server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _request_lines(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_each_request_logs_one_line_with_its_route_template(keys, tmp_path):
    log = tmp_path / "server.log"
    headers = {"X-API-Key": keys["read"]}
    ids = [str(uuid.uuid4()) for _ in range(3)]
    with _served(log) as base:
        for decision_id in ids:
            answer = httpx.get(f"{base}/v1/decisions/{decision_id}", headers={**headers, "X-Request-ID": decision_id})
            assert answer.status_code == 404, answer.text
        assert httpx.get(f"{base}/v1/no-such-thing", headers=headers).status_code == 404
    lines = {line["request_id"]: line for line in _request_lines(log)}
    # The template, the same on every request to the route (not the path, which carries the id).
    for decision_id in ids:
        line = lines[decision_id]
        assert {k: line[k] for k in ("method", "route", "status", "caller")} == {
            "method": "GET",
            "route": "/v1/decisions/{decision_id:decision_id}",
            "status": 404,
            "caller": "test-read",
        }, line
        assert line["duration_ms"] > 0
    assert [line["route"] for line in lines.values() if line["status"] == 404 and line["request_id"] not in ids] == [
        "<unmatched>"
    ]


def test_the_log_level_applies_to_the_request_lines(keys, tmp_path):
    log = tmp_path / "server.log"
    with _served(log, DECISION_LOG_LOG_LEVEL="WARNING") as base:
        for _ in range(3):
            assert httpx.get(f"{base}/v1/people", headers={"X-API-Key": keys["read"]}).status_code == 200
    assert _request_lines(log) == [], log.read_text()
    with _served(log, DECISION_LOG_LOG_LEVEL="INFO") as base:
        assert httpx.get(f"{base}/v1/people", headers={"X-API-Key": keys["read"]}).status_code == 200
    assert [line["level"] for line in _request_lines(log) if line["route"] == "/v1/people"] == ["info"]


def test_server_logs_never_contain_the_api_key(keys, tmp_path):
    log = tmp_path / "server.log"
    with _served(log) as base:
        key = keys["analytics"]
        ok = httpx.get(f"{base}/v1/analytics/outcomes", params={"api_key": key, "bucket": "none"})
        assert ok.status_code == 200, ok.text
        refused = httpx.get(f"{base}/v1/people", params={"api_key": key})
        assert refused.status_code == 401, refused.text
        httpx.get(f"{base}/v1/people", headers={"Authorization": f"Bearer {key}x"})
    text = log.read_text()
    requests = _request_lines(log)
    assert {"method": "GET", "route": "/v1/analytics/outcomes", "status": 200} in [
        {k: line[k] for k in ("method", "route", "status")} for line in requests
    ], text
    assert key not in text
    assert key.split("_", 2)[2] not in text


def test_a_request_line_value_shaped_like_a_secret_is_redacted(keys, tmp_path):
    # The request line's values come from the service (route template, request id, key name), but a key's name is
    # whatever an admin typed: the line is still scanned, and what looks like a secret in it redacted.
    log = tmp_path / "server.log"
    admin = {"X-API-Key": keys["admin"]}
    with _served(log) as base:
        created = httpx.post(f"{base}/v1/keys", headers=admin, json={"name": "bi?api_key=hunter2", "scope": "read"})
        assert created.status_code == 201, created.text
        listed = httpx.get(f"{base}/v1/people", headers={"X-API-Key": created.json()["key"]})
        assert listed.status_code == 200, listed.text
        httpx.post(f"{base}/v1/keys/{created.json()['id']}/revoke", headers=admin).raise_for_status()
    callers = [line["caller"] for line in _request_lines(log) if line["route"] == "/v1/people"]
    assert callers == ["bi?api_key=[redacted]"], log.read_text()
    assert "hunter2" not in log.read_text()
