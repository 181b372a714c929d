"""Logging: nothing secret ever reaches a log line."""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"(?i)((?:^|[?&])api_key=)[^&\s\"]*")
_KEY = re.compile(r"dlk_[0-9a-f]{12}_[A-Za-z0-9_-]+")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")  # a webhook's signing secret (app/webhooks/crypto.py)
# What any pattern needs to match: one scan, so that text without a secret (nearly all) costs no substitution.
_SUSPECT = re.compile(r"(?i)api_key=|dlk_|whsec_")


def suspect(text: str) -> bool:
    """Whether ``text`` may hold a secret that :func:`redact` hides."""
    return _SUSPECT.search(text) is not None


def redact(text: str) -> str:
    """Hide API keys (``api_key`` query values and anything shaped like a key) and webhook signing secrets."""
    if not suspect(text):
        return text
    text = _WEBHOOK_SECRET.sub("whsec_[redacted]", text)
    return _KEY.sub("dlk_[redacted]", _SECRET_QUERY.sub(r"\1[redacted]", text))


class RedactSecrets(logging.Filter):
    """Rewrites a record's message arguments (e.g. uvicorn's access-log path) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "app"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
