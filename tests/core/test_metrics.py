"""/metrics: Prometheus text that promtool accepts, request and domain counters, right under workers."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.conftest import DATABASE_URL

CLI = str(Path(sys.executable).parent / "decision-log")


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_and_time_requests_by_route_template_and_decisions_by_class(client, anon):
    await factories.basics(client)
    before = (await anon.get("/metrics")).text
    await client.post("/v1/decisions", json=factories.decision_body())
    await client.post("/v1/decisions", json=factories.decision_body(evidence=[]))
    await client.post("/v1/decisions", json=factories.decision_body(owner="nobody"))
    response = await anon.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    after = response.text

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert delta("decision_log_http_requests_total", handler="/v1/decisions", method="POST", status="201") == 2
    assert delta("decision_log_http_requests_total", handler="/v1/decisions", method="POST", status="422") == 1
    # Latency by route template and method, every answer counted; the scrapes themselves are not.
    duration = "decision_log_http_request_duration_seconds"
    assert delta(f"{duration}_count", handler="/v1/decisions", method="POST") == 3
    assert delta(f"{duration}_sum", handler="/v1/decisions", method="POST") > 0
    assert delta(f"{duration}_bucket", handler="/v1/decisions", method="POST", le="+Inf") == 3
    assert delta("decision_log_http_requests_total", handler="/metrics", method="GET", status="200") == 0
    assert delta("decision_log_decisions_recorded_total", basis_class="data") == 1
    assert delta("decision_log_decisions_recorded_total", basis_class="emotion") == 1


async def test_a_rolled_back_write_is_not_counted(client, anon):
    await factories.basics(client)
    await factories.decision(client, external_ref={"system": "crm", "id": "1"})
    before = (await anon.get("/metrics")).text
    clash = await client.post("/v1/decisions", json=factories.decision_body(external_ref={"system": "crm", "id": "1"}))
    assert clash.status_code == 409
    after = (await anon.get("/metrics")).text
    assert _sample(after, "decision_log_decisions_recorded_total", basis_class="data") == _sample(
        before, "decision_log_decisions_recorded_total", basis_class="data"
    )


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) is not installed")
async def test_promtool_accepts_the_metrics(client, anon, tmp_path):
    await factories.basics(client)
    await factories.decision(client)
    text = (await anon.get("/metrics")).text
    result = subprocess.run(  # noqa: ASYNC221 - a short, bounded check
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_add_up_across_worker_processes(keys, tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["DECISION_LOG_DATABASE_URL"] = DATABASE_URL
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        headers = {"X-API-Key": keys["read"]}
        # New connections spread the requests over both workers.
        for _ in range(40):
            assert httpx.get(f"{base}/v1/people", headers=headers, timeout=10).status_code == 200
        text = httpx.get(f"{base}/metrics", timeout=10).text
        assert _sample(text, "decision_log_http_requests_total", handler="/v1/people", method="GET", status="200") == 40
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
