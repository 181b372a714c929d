"""Metrics and logs.

- ``/metrics``: Prometheus text format (exposed by prometheus-fastapi-instrumentator): request counts
  and latencies by route template, method and status, recorded with prometheus-client by
  :class:`RequestTelemetry` from the route FastAPI matched (the instrumentator's own middleware
  matched every request against all routes again before the app did), plus domain counters. Under
  ``--workers N`` the CLI points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory, so every
  worker's samples add up.
- Logs: structured (structlog), one line per request with method, route template, status, duration
  and request id; uvicorn's own lines go through the same formatter, an exception's stack written out
  whole. JSON lines, or lines people read (structlog's console renderer) when ``serve`` writes to a
  terminal or ``DECISION_LOG_LOG_FORMAT=console``. Query strings are never logged, and secrets are
  redacted from whatever else is.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import orjson
import structlog
import uuid_utils
from asgi_correlation_id import correlation_id
from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import redact, suspect

HTTP_REQUESTS = Counter(
    "decision_log_http_requests_total",
    "Requests answered, by route template (handler), method and status.",
    ["handler", "method", "status"],
)
HTTP_DURATION = Histogram(
    "decision_log_http_request_duration_seconds",
    "Time to answer, by route template (handler) and method.",
    ["handler", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Scrapes are not counted: they would measure the scraper.
UNCOUNTED = frozenset({"/metrics"})
DECISIONS_RECORDED = Counter(
    "decision_log_decisions_recorded_total",
    "Decisions recorded, by basis class.",
    ["basis_class"],
)
DECISION_CHANGES = Counter(
    "decision_log_decision_changes_total",
    "Changes to recorded decisions, by kind (edited, reversed, superseded, outcome_recorded).",
    ["kind"],
)

# The webhook dispatcher (app/webhooks/dispatcher.py): its attempts by outcome (`delivered`, `retrying`: failed and
# due again, `failed`: the retry schedule ran out), and, as each process last saw them, the messages waiting for
# delivery and how long the oldest has waited (the highest of the processes').
WEBHOOK_ATTEMPTS = Counter(
    "decision_log_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
)
WEBHOOK_PENDING = Gauge(
    "decision_log_webhook_messages_pending",
    "Webhook messages waiting for delivery (or for their next retry).",
    multiprocess_mode="max",
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "decision_log_webhook_oldest_pending_seconds",
    "How long the oldest webhook message waiting for delivery has waited, in seconds.",
    multiprocess_mode="max",
)


def new_request_id() -> str:
    """The id of a request that brought none: a random UUID (version 4) in hex, as asgi-correlation-id's own
    default makes, by uuid-utils (in Rust: a tenth of the standard library's ``uuid4().hex``)."""
    return uuid_utils.uuid4().hex


@functools.cache
def series(metric: Any, *labels: str) -> Any:
    """``metric``'s series for these label values (in the order the metric declares its labels), looked up once
    rather than through ``labels()`` on every request, which takes a lock each time. There are as many as
    ``labels()`` itself keeps."""
    return metric.labels(*labels)


def count_decisions(basis_classes: Iterable[str]) -> None:
    for basis_class in basis_classes:
        series(DECISIONS_RECORDED, basis_class).inc()


def count_change(kind: str) -> None:
    series(DECISION_CHANGES, kind).inc()


def install_metrics(app: FastAPI) -> None:
    """``GET /metrics``; the request metrics themselves are recorded by :class:`RequestTelemetry`."""
    Instrumentator().expose(app, include_in_schema=False)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}


def _redacted_json_line(_: Any, __: str, event: MutableMapping[str, Any]) -> str:
    """:func:`_redact` then :func:`_json_line`, in one scan of the line for the usual one without a secret."""
    line = _json_line(event)
    return _json_line(_redact(_, __, event)) if suspect(line) else line


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _json_line(event: Any, **_: Any) -> str:
    """One log line's JSON, by orjson (several times faster than the standard library on every request);
    what it cannot take it writes as ``str()``."""
    return orjson.dumps(event, default=str).decode("utf-8")


def _below_level_dropped(_: Any, method_name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The logging level set for the line's logger (``DECISION_LOG_LOG_LEVEL``) applies to structlog's own lines
    too."""
    name = event.get("logger")
    logger = _loggers.get(name) or _loggers.setdefault(name, logging.getLogger(name))
    if not logger.isEnabledFor(_LEVELS[method_name]):
        raise structlog.DropEvent
    return event


_LEVELS = {name.lower(): level for name, level in logging.getLevelNamesMapping().items()}
_loggers: dict[str | None, logging.Logger] = {}  # by name: logging.getLogger takes the module's lock every time


LOG_FORMATS = ("json", "console")


def _renderer(log_format: str) -> Any:
    """The last step of a line: JSON (one object per line), or ``key=value`` text for a person at a terminal."""
    if log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    return structlog.processors.JSONRenderer(serializer=_json_line)


def configure_structlog(log_format: str = "json") -> None:
    """structlog's own pipeline (the request line), per process: straight to stderr, the same fields, formatted
    stack, redaction and rendering as the stdlib lines, without a stdlib record and handler per request."""
    last: list[Any] = [_redacted_json_line] if log_format == "json" else [_redact, _renderer(log_format)]
    structlog.configure(
        processors=[
            _below_level_dropped,
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            *last,
        ],
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def stdlib_formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter of every stdlib log line (uvicorn's, the service's): JSON or console text, an exception's
    stack formatted as Python prints it (in the line's ``exception`` field), secrets redacted (the stack's too)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact,
            _renderer(log_format),
        ],
    )


def resolved_log_format(setting: str) -> str:
    """``json`` or ``console``: ``auto`` is ``console`` when the output is a terminal (people read it), else JSON."""
    if setting == "auto":
        return "console" if sys.stderr.isatty() else "json"
    return setting


def log_formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter of the logging configuration (:func:`log_config`), made in every worker process; also sets
    structlog up there (:func:`configure_structlog`)."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r}: one of {', '.join(LOG_FORMATS)}")
    configure_structlog(log_format)
    return stdlib_formatter(log_format)


def log_config(level: str = "INFO", log_format: str = "json") -> dict[str, Any]:
    """A logging dictConfig for uvicorn, applied in every worker process."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "filters": ["redact"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "app.core.logging.RedactSecrets"}},
        "formatters": {"default": {"()": "app.core.observability.log_formatter", "log_format": log_format}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


REQUEST_LOGGER = "app.request"
request_log = structlog.get_logger()
# The matched route's template by route object: worked out once per route rather than by matching the
# routes again on every request (each router is included once, so a route has one template).
_templates: dict[int, tuple[Any, str]] = {}


def route_template(scope: Scope) -> str:
    """The template of the route that served the request (``/v1/decisions/{decision_id}``), as the metrics
    label it; ``<unmatched>`` when none did."""
    route = scope.get("route")
    cached = _templates.get(id(route)) if route is not None else None
    if cached is not None and cached[0] is route:
        return cached[1]
    template = get_route_name(Request(scope), False) or "<unmatched>"
    if route is not None:
        _templates[id(route)] = (route, template)
    return template


# nginx's status for a request whose client closed the connection before the answer: not a server error.
CLIENT_CLOSED_REQUEST = 499


class RequestTelemetry:
    """Per request, one JSON line (method, route template, status, duration, request id, caller) and the
    request metrics (count by route template, method and status; latency by route template and method).

    A request whose client closed the connection before the answer started (mid-body, say) is logged and counted
    with status 499, as nginx does: whatever the app did then reached no one, and it is not a server error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        answered = False  # the response has started
        abandoned = False  # the client went away before it did

        async def send_status(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
            await send(message)

        async def receive_watched() -> Message:
            nonlocal abandoned
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                abandoned = True
            return message

        try:
            await self.app(scope, receive_watched, send_status)
        finally:
            duration = time.perf_counter() - started
            if abandoned:
                status = CLIENT_CLOSED_REQUEST
            method, route = scope["method"], route_template(scope)
            if route not in UNCOUNTED:
                series(HTTP_REQUESTS, route, method, str(status)).inc()
                series(HTTP_DURATION, route, method).observe(duration)
            request_log.info(
                "request",
                logger=REQUEST_LOGGER,
                method=method,
                route=route,
                status=status,
                duration_ms=round(duration * 1000, 3),
                request_id=correlation_id.get(),
                caller=getattr(scope.get("state", {}).get("caller"), "name", None),
            )
