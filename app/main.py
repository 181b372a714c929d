"""create_app(): the FastAPI application, its middleware and error handlers."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.analytics import rollup
from app.api import include_api
from app.auth import ratelimit
from app.core import memory
from app.core.config import Settings, get_settings
from app.core.engine import PoolerMismatch, check_pooler
from app.core.errors import install_error_handlers
from app.core.logging import install_redaction
from app.core.middleware import BodyGuard, ConcurrencyLimit, CutOffAsUnavailable, KeepPeer, SecurityHeaders
from app.core.observability import RequestTelemetry, install_metrics, new_request_id
from app.core.unit_of_work import Database
from app.decisions.rationale_signals import lexicon
from app.digest import weekly
from app.events import reviews
from app.idempotency.errors import IdempotentReplay
from app.integrity.service import Sealer, warn_when_unsigned
from app.openapi import DESCRIPTION, install_openapi
from app.web import include_pages
from app.webhooks.dispatcher import Dispatcher


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_redaction()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings)
        try:
            await check_pooler(app.state.db.engine, settings)
        except PoolerMismatch:
            await app.state.db.dispose()
            raise
        sealer = Sealer(app.state.db)
        warn_when_unsigned(sealer)
        sealing = (
            asyncio.create_task(sealer.run(settings.integrity_seal_interval_seconds), name="integrity-sealer")
            if settings.integrity_seal_interval_seconds > 0
            else None
        )
        folding = (
            asyncio.create_task(rollup.run(app.state.db, settings.rollup_fold_interval_seconds), name="rollup-folding")
            if settings.rollup_fold_interval_seconds > 0
            else None
        )
        scanning = (
            asyncio.create_task(reviews.run(app.state.db, settings.review_scan_interval_seconds), name="review-scan")
            if settings.review_scan_interval_seconds > 0
            else None
        )
        digesting = (
            asyncio.create_task(weekly.run(app.state.db, settings.digest_check_interval_seconds), name="weekly-digest")
            if settings.digest_check_interval_seconds > 0
            else None
        )
        # Deliveries here, unless `decision-log dispatch` processes make them (DECISION_LOG_WEBHOOK_DISPATCH).
        dispatching = None
        dispatcher = app.state.dispatcher = (
            Dispatcher(app.state.db)
            if settings.webhook_dispatch == "in-process" and settings.webhook_poll_interval_seconds > 0
            else None
        )
        if dispatcher is not None:
            dispatching = asyncio.create_task(
                dispatcher.run(settings.webhook_poll_interval_seconds), name="webhook-dispatcher"
            )
        tasks = [task for task in (sealing, folding, scanning, digesting, dispatching) if task is not None]
        lexicon()  # the rationale analyser's tables, built once here rather than by the first write
        memory.settle()
        try:
            yield
        finally:
            if dispatcher is not None and dispatching is not None:
                await dispatcher.stop(dispatching, settings.webhook_timeout_seconds + 5)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if dispatcher is not None:
                await dispatcher.close()
            await app.state.db.dispose()

    app = FastAPI(
        title="Marketing Decision Log",
        version="1.0.0",
        summary="Record every marketing decision with its rationale, evidence and owner; "
        "see how marketing is really managed.",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.rate_limiter = ratelimit.from_settings(settings.rate_limit, settings.redis_url)
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, lambda _request, replay: replay.response())
    include_api(app)
    include_pages(app)
    install_openapi(app)
    install_metrics(app)

    # Outermost last: request id first, so every answer (413s included) carries it.
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["ETag", "Link", "Location", "X-Request-ID", "Idempotent-Replayed", "Retry-After"],
        )
    app.add_middleware(
        ConcurrencyLimit, limit=settings.max_concurrent_requests, exempt=frozenset({"/healthz", "/readyz", "/metrics"})
    )
    app.add_middleware(CutOffAsUnavailable)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestTelemetry)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID", generator=new_request_id)
    # The proxy headers are read here rather than by uvicorn (serve turns its own reading off), after the peer's
    # own address is kept.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(KeepPeer)
    return app


app = create_app()
