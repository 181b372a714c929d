"""A client that closes its connection before its body has arrived is logged and counted as 499 (nginx's "client
closed request"), not as a server error: against a real served process, over a raw socket."""

import json
import re
import socket
import time
from pathlib import Path

import httpx

from tests.core.raising_app import served


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _send_half_the_body_and_close(port: int, path: str, key: str | None = None) -> None:
    """A POST announcing 1,000 bytes of JSON, of which it sends the start, then the connection closed."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Content-Length: 1000",
        *([f"Authorization: Bearer {key}"] if key else []),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b'{"title": "Move the budget to sea')
        time.sleep(0.3)  # the server has read the head and the start of the body


def _counted(base: str, route: str, status: str, within: float = 10) -> str:
    """/metrics once the request line for ``route`` has been counted with ``status``."""
    deadline = time.monotonic() + within
    while True:
        text = httpx.get(f"{base}/metrics").text
        labels = {"handler": route, "method": "POST", "status": status}
        if _sample(text, "decision_log_http_requests_total", **labels) or time.monotonic() > deadline:
            return text
        time.sleep(0.1)


def _request_lines(log: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def _assert_no_error_logged(log: Path) -> None:
    text = log.read_text()
    assert "Traceback" not in text, text
    levels = {json.loads(line)["level"] for line in text.splitlines() if line.startswith("{")}
    assert levels <= {"info", "warning"}, text


def test_a_client_gone_mid_body_is_counted_as_499_not_500(keys, tmp_path):
    log = tmp_path / "server.log"
    with served(log, cli=True) as port:
        _send_half_the_body_and_close(port, "/v1/decisions", keys["write"])
        metrics = _counted(f"http://127.0.0.1:{port}", "/v1/decisions", "499")
        # The next request on a fresh connection is served as usual.
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/decisions", headers={"Authorization": f"Bearer {keys['read']}"})
        assert listed.status_code == 200, listed.text
    decisions = {"handler": "/v1/decisions", "method": "POST"}
    assert _sample(metrics, "decision_log_http_requests_total", **decisions, status="499") == 1, metrics
    assert _sample(metrics, "decision_log_http_requests_total", **decisions, status="500") == 0, metrics
    [line] = [line for line in _request_lines(log) if line["method"] == "POST"]
    assert {k: line[k] for k in ("route", "status", "level")} == {
        "route": "/v1/decisions",
        "status": 499,
        "level": "info",
    }
    _assert_no_error_logged(log)


def test_a_client_gone_while_a_handler_reads_its_body_is_499_without_an_error_logged(tmp_path):
    # Outside /v1 no guard reads the body first: the handler's own read finds the client gone.
    log = tmp_path / "server.log"
    with served(log) as port:
        _send_half_the_body_and_close(port, "/test/body")
        metrics = _counted(f"http://127.0.0.1:{port}", "/test/body", "499")
    body = {"handler": "/test/body", "method": "POST"}
    assert _sample(metrics, "decision_log_http_requests_total", **body, status="499") == 1, metrics
    assert [line["status"] for line in _request_lines(log) if line["route"] == "/test/body"] == [499]
    _assert_no_error_logged(log)
