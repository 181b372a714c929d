"""HTTP helpers shared by routers: entity tags and preconditions, and JSON answers with exact money."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from app.core.errors import PreconditionFailed
from app.core.money import json_default
from app.core.types import format_utc


def exact_json(content: Any) -> bytes:
    """JSON whose amounts (Decimals) are exact JSON numbers (``99999999999999.99``, not …98).

    Pydantic's JSON mode writes a Decimal as a string or through a float; so a model is dumped in Python mode
    (its fields' own serialisers still apply: timestamps, aliases) and written by orjson, every Decimal as its
    exact digits (:func:`app.core.money.json_default`)."""
    if isinstance(content, BaseModel):
        content = content.model_dump(by_alias=True)
    return orjson.dumps(content, default=json_default)


class ExactJSONResponse(Response):
    """A JSON answer through :func:`exact_json`: routers return it for every answer that carries money."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return exact_json(content)


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
