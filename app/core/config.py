"""Settings, read once from the environment (prefix ``DECISION_LOG_``)."""

import json
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DECISION_LOG_", extra="ignore")

    database_url: str = "sqlite:///./decision_log.db"
    # What stands between the service and PostgreSQL: `none` (nothing, or a pooler in session mode) or `pgbouncer`
    # (PgBouncer or another pooler in transaction mode: no named prepared statements, the session settings set at
    # the start of every transaction rather than when connecting).
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # Largest request body accepted, in bytes; larger ones get 413 before they are parsed.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # How long a successful API-key check is reused in-process; bounds how long a revoked key
    # keeps working in a process that has just seen it.
    key_cache_seconds: float = Field(default=5.0, ge=0)
    # Clock skew allowed for ``decided_at`` values slightly in the future.
    clock_skew_seconds: int = Field(default=300, ge=0)
    # Database waits: a request never waits longer than these for the database.
    pool_size: int = Field(default=10, ge=1)
    pool_timeout_seconds: float = Field(default=2.0, gt=0)
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    statement_timeout_seconds: float = Field(default=10.0, gt=0)
    # PostgreSQL: the longest an API request waits for the answer to one statement, commit or
    # rollback; then its connection is dropped and the request answers 503. Analytics wait up to
    # the statement timeout instead.
    query_timeout_seconds: float = Field(default=2.0, gt=0)
    # SQLite: the longest a write waits for the write lock (in this process or another) before 503.
    sqlite_busy_timeout_seconds: float = Field(default=10.0, gt=0)
    retry_after_seconds: int = Field(default=2, ge=1)
    # Requests in progress per process (health probes and metrics apart); more get 503 `overloaded`
    # at once rather than queueing without bound. Above the pool size: a request holds a connection
    # only while it talks to the database, and waits for one at most the pool timeout.
    max_concurrent_requests: int = Field(default=64, ge=1)
    # On SIGTERM, how long requests in progress may run to completion before they are cancelled.
    shutdown_grace_seconds: int = Field(default=25, ge=0)
    # A strategy change less than this many days after the previous one marks the strategy unstable.
    strategy_min_stable_days: float = Field(default=30, gt=0)
    # Requests per API key, e.g. "1200/minute" or "50/second"; empty disables the limit.
    rate_limit: str = "6000/minute"
    # Redis shared by every process (rate-limit counts); without it counts are per process.
    redis_url: str | None = None
    # How long an Idempotency-Key and its stored response are kept.
    idempotency_ttl_hours: int = Field(default=24, ge=24)
    # Origins allowed to call the API from a browser: a JSON list or comma-separated.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    # How log lines are written: `json` (one object per line, for a log pipeline), `console` (lines people read,
    # structlog's console renderer), or `auto`: console when the output is a terminal, JSON otherwise. Either way
    # an exception's stack is written out whole, secrets redacted.
    log_format: Literal["auto", "json", "console"] = "auto"
    # The pages (app/web): how long a signed-in session lasts (it ends sooner when its key is revoked or expires),
    # and how long the first administrator's one-time sign-in link printed by `serve` stays usable.
    session_hours: float = Field(default=12, gt=0)
    sign_in_link_minutes: int = Field(default=60, ge=1)
    # Addresses (or networks) of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: a
    # comma-separated list, or "*" (what uvicorn's FORWARDED_ALLOW_IPS took).
    forwarded_allow_ips: str = "127.0.0.1"
    # Single sign-on behind an authenticating proxy (oauth2-proxy, Authelia): the header in which it names the
    # signed-in user (e.g. X-Forwarded-Email, Remote-User), believed only on connections from
    # `trusted_user_proxies` (addresses or networks). The user is the person with that handle or e-mail, acting
    # with their own key (the one of widest scope that still works).
    trusted_user_header: str | None = None
    trusted_user_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Tamper evidence (app/integrity): the Ed25519 key that signs the chain's checkpoints, as base64 of its
    # 32-byte seed or as PEM (PKCS#8). Unset: checkpoints are not signed (a warning at start-up) and verify
    # reports the chain as unsigned.
    signing_key: SecretStr | None = None
    # Public keys (base64, raw 32 bytes) of earlier signing keys whose checkpoints still verify (key rotation,
    # a restored backup): a JSON list or comma-separated.
    integrity_trusted_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How often the sealer links new log entries into the chain and signs a checkpoint; 0 disables the
    # background sealer (verify still seals on demand).
    integrity_seal_interval_seconds: float = Field(default=5.0, ge=0)
    # Analytics (app/analytics/models.py): answer the basis figures from the exact rollups the database keeps
    # (false: always from the decisions themselves, as bench/analytics.py compares), and how often pending
    # rollup deltas are folded (0 disables the background folding; answers stay exact, only slower).
    analytics_rollups: bool = True
    rollup_fold_interval_seconds: float = Field(default=2.0, ge=0)
    # The IANA time zone analytics answer in when a request names none (`tz`): buckets start at its local
    # midnights, bare dates in `from`/`to` are its midnights. Zones come from the pinned tzdata package
    # (app/analytics/zones.py). Changing it needs nothing rebuilt: the rollups serve every zone.
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zones = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
        if value not in zones:
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. UTC, Europe/Berlin)")
        return value

    # How often each process looks for decisions whose review date has passed with no review, to fire
    # `decision.review_due` (once per decision; one process scans at a time). 0: no background scan
    # (`decision-log scan-reviews` does it on demand).
    review_scan_interval_seconds: float = Field(default=60.0, ge=0)
    # The weekly digest (app/digest): `digest.weekly` is written every Monday at this hour on the clock of
    # `timezone` (for the week before), once, by one process; then e-mailed through `smtp_url`
    # (`smtp://user:password@host:587` with STARTTLS when the server offers it, or `smtps://…:465`; credentials are
    # never sent without TLS) from `smtp_from` to the active people whose `digest` flag is set and who have an
    # e-mail. Each process looks every `digest_check_interval_seconds` (0: never; `decision-log send-digest` does
    # it on demand). A failed send is tried again at the next look.
    digest_hour: int = Field(default=9, ge=0, le=23)
    digest_check_interval_seconds: float = Field(default=300.0, ge=0)
    smtp_url: SecretStr | None = None
    smtp_from: str = "decision-log@localhost"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise ValueError("must be an smtp:// or smtps:// URL")  # the value itself is never echoed
        return value

    # Webhooks (app/webhooks). The key (Fernet; `decision-log webhook-key` makes one) that encrypts the signing
    # secrets at rest: without it no subscription can be created.
    webhook_secret_key: SecretStr | None = None
    # Seconds to wait before each retry of a delivery that failed (a non-2xx answer, a timeout, a refused
    # connection); when they run out the delivery is marked failed.
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    # Targets resolving to loopback, private, link-local or metadata addresses are refused unless this is true.
    webhook_allow_private_targets: bool = False
    # Where deliveries are made: `in-process` (each `serve` process runs a dispatcher beside its requests) or
    # `separate` (`serve` runs none: `decision-log dispatch` processes deliver, off the web workers' cores).
    webhook_dispatch: Literal["in-process", "separate"] = "in-process"
    # Each attempt's limit (connect, send, answer), the attempts in flight per process, and how often the
    # dispatcher looks for work (0: no dispatcher in this process; `decision-log dispatch` needs it above 0).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_max_concurrency: int = Field(default=10, ge=1)
    webhook_poll_interval_seconds: float = Field(default=1.0, ge=0)
    # A subscription whose every attempt has failed for this many days is disabled (its reason shown).
    webhook_disable_after_days: float = Field(default=5.0, gt=0)

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [float(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_origins", "integrity_trusted_keys", "trusted_user_proxies", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return json.loads(value) if value.startswith("[") else [o.strip() for o in value.split(",") if o.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
