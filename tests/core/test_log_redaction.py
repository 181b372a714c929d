"""API keys never reach a log line, not even when a BI tool sends one as `api_key=`."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import DATABASE_URL

CLI = str(Path(sys.executable).parent / "decision-log")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_logs_never_contain_the_api_key(keys, tmp_path):
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "DECISION_LOG_DATABASE_URL": DATABASE_URL}
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
        key = keys["analytics"]
        ok = httpx.get(f"{base}/v1/analytics/outcomes", params={"api_key": key, "bucket": "none"})
        assert ok.status_code == 200, ok.text
        refused = httpx.get(f"{base}/v1/people", params={"api_key": key})
        assert refused.status_code == 401, refused.text
        httpx.get(f"{base}/v1/people", headers={"Authorization": f"Bearer {key}x"})
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert {"method": "GET", "route": "/v1/analytics/outcomes", "status": 200} in [
        {k: line[k] for k in ("method", "route", "status")} for line in requests
    ], text
    assert key not in text
    assert key.split("_", 2)[2] not in text
