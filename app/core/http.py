"""HTTP helpers shared by routers: entity tags and preconditions."""

from __future__ import annotations

import hashlib
from datetime import datetime

from app.core.errors import PreconditionFailed
from app.core.types import format_utc


def etag_of(*parts: object) -> str:
    """A strong entity tag from the values that change whenever the representation does."""
    raw = "|".join(format_utc(p) if isinstance(p, datetime) else str(p) for p in parts)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:20] + '"'


def check_if_match(if_match: str | None, current: str) -> None:
    """RFC 9110 ``If-Match``: ``*`` or a list of tags, one of which must be the current one."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags:
        return
    if current not in {t[2:] if t.startswith("W/") else t for t in tags}:
        raise PreconditionFailed(
            f"The resource has changed: its current ETag is {current}. Read it again and retry.",
            current_etag=current,
        )
