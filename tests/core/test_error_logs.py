"""An unexpected error is logged with its whole stack, formatted as Python prints it, in the JSON log form and in
the console one, secrets redacted from it like from any other line."""

import json

import httpx
import pytest

from tests.core.raising_app import MESSAGE, SECRET, served

REQUEST_ID = "5f0c2bd4a8d44b4a9d0fb8a3d2b0c3e1"


def _failing_request(port: int) -> httpx.Response:
    response = httpx.get(f"http://127.0.0.1:{port}/test/unexpected-error", headers={"X-Request-ID": REQUEST_ID})
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "internal_error"
    return response


def _assert_formatted_stack(stack: str) -> None:
    lines = stack.splitlines()
    assert lines[0] == "Traceback (most recent call last):", stack
    # Frames with their file, line and code, down to the route that raised, and the error itself.
    assert any(line.strip().startswith('File "') and "raising_app.py" in line for line in lines), stack
    assert "    raise RuntimeError(MESSAGE)" in lines, stack
    redacted = MESSAGE.replace(SECRET, "dlk_[redacted]")
    assert lines[-1] == f"RuntimeError: {redacted}", stack
    assert "<traceback object" not in stack


def test_unexpected_error_is_logged_with_its_formatted_stack_as_json(tmp_path):
    log = tmp_path / "server.log"
    with served(log, "json") as port:
        _failing_request(port)
    text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    [unhandled] = [record for record in records if record["event"] == "unhandled error"]
    assert {k: unhandled[k] for k in ("logger", "level")} == {"logger": "app.errors", "level": "error"}
    assert "exc_info" not in unhandled
    _assert_formatted_stack(unhandled["exception"])
    # The server's own report of the same error (uvicorn's) carries the stack too.
    [server] = [record for record in records if record["event"].strip() == "Exception in ASGI application"]
    _assert_formatted_stack(server["exception"])
    [request] = [record for record in records if record["event"] == "request" and record["status"] == 500]
    assert {k: request[k] for k in ("route", "status", "request_id")} == {
        "route": "/test/unexpected-error",
        "status": 500,
        "request_id": REQUEST_ID,
    }
    assert SECRET not in text


def test_unexpected_error_is_logged_with_its_formatted_stack_as_console_text(tmp_path):
    log = tmp_path / "server.log"
    with served(log, "console") as port:
        _failing_request(port)
    text = log.read_text()
    lines = text.splitlines()
    [at] = [number for number, line in enumerate(lines) if "unhandled error" in line]
    assert "[error" in lines[at] and "app.errors" in lines[at], lines[at]
    # The stack follows its line, whole, up to the error.
    end = next(number for number in range(at, len(lines)) if lines[number].startswith("RuntimeError: "))
    _assert_formatted_stack("\n".join(lines[at + 1 : end + 1]))
    request = [line for line in lines if " request " in f" {line} " and "/test/unexpected-error" in line]
    assert len(request) == 1 and "status=500" in request[0], text
    assert SECRET not in text


@pytest.mark.parametrize("log_format", ["xml"])
def test_an_unknown_log_format_is_refused(log_format):
    from app.core.observability import log_formatter

    with pytest.raises(ValueError, match="unknown log format 'xml'"):
        log_formatter(log_format)
