"""HTTP helpers shared by routers: entity tags, preconditions, content negotiation, and JSON answers with exact
money."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import mimeparse  # type: ignore[import-untyped]
import orjson
from fastapi import Header
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
    try:
        return orjson.dumps(content, default=json_default)
    except orjson.JSONEncodeError:
        # An integer beyond 64 bits, which orjson does not write, written as its exact digits. JSON columns are read
        # by orjson, which reads such a number as a double (app.core.engine.json_value); one can still come from a
        # document only the standard library reads, which keeps it an integer.
        return orjson.dumps(_wide_integers_as_digits(content), default=json_default)


_ORJSON_INTEGERS = range(-(2**63), 2**64)


def _wide_integers_as_digits(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value not in _ORJSON_INTEGERS:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {key: _wide_integers_as_digits(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_wide_integers_as_digits(item) for item in value]
    return value


class ExactJSONResponse(Response):
    """A JSON answer through :func:`exact_json`: routers return it for every answer that carries money."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return exact_json(content)


def answer_put(response: Response, *, created: bool, etag: str, location: str) -> None:
    """The answer of a ``PUT`` that creates or replaces: 201 with ``Location`` when it created, else 200; its ETag."""
    response.status_code = 201 if created else 200
    response.headers["ETag"] = etag
    if created:
        response.headers["Location"] = location


def etag_of(*parts: object) -> str:
    """A strong entity tag from the values that change whenever the representation does."""
    raw = "|".join(format_utc(p) if isinstance(p, datetime) else str(p) for p in parts)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:20] + '"'


# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
_ENTITY_TAG = re.compile(r'[ \t]*(W/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(?:,|$)')
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")


def strong_tags(header: str) -> set[str] | None:
    """The strong entity tags of an ``If-Match`` list (RFC 9110 §13.1.1); None when the header is malformed."""
    tags: set[str] = set()
    position = 0
    while position < len(header):
        empty = _EMPTY_ELEMENT.match(header, position)  # a list may hold empty elements
        if empty is not None:
            position = empty.end()
            continue
        if not header[position:].strip():
            break
        found = _ENTITY_TAG.match(header, position)
        if found is None:
            return None
        if found[1] is None:  # weak tags never match: If-Match compares strongly
            tags.add(found[2])
        position = found.end()
    return tags


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1000,
        description='The ETag last read; 412 when stale. Compared strongly (RFC 9110): a weak tag `W/"…"` never '
        "matches.",
    ),
]


def check_if_match(if_match: str | None, current: str) -> None:
    """RFC 9110 ``If-Match``: ``*``, or a list of entity tags one of which is the current one by the strong
    comparison (a weak tag ``W/"…"`` never matches; neither does a malformed header)."""
    if if_match is None or if_match.strip() == "*":
        return
    if current not in (strong_tags(if_match) or ()):
        raise PreconditionFailed(
            f"The resource has changed, or If-Match named no strong entity tag: its current ETag is {current}. "
            "Read it again and retry with that ETag.",
            current_etag=current,
        )


def negotiate(accept: str | None, offers: Sequence[str]) -> str:
    """The media type to answer among ``offers`` (the service's preference first) for an ``Accept`` header, with its
    q-values honoured (RFC 9110 §12.5.1): the offer of the highest q, the more specific range deciding each offer's
    q, and the service's preference breaking ties. An offer with q=0 is never chosen. Without an Accept header,
    with a malformed one, or when it accepts none of the offers, the first offer (the header is then disregarded,
    as §12.5.1 allows)."""
    if not accept or not accept.strip():
        return offers[0]
    try:
        # mimeparse prefers the later of equal offers; media types are case-insensitive.
        chosen: str = mimeparse.best_match(list(reversed(offers)), accept.lower())
    except ValueError:
        return offers[0]
    return chosen or offers[0]
