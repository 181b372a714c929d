"""Secrets a response shows once (a new API key; a webhook's signing secret): never stored, never shown again.

A response model declares such a field as :data:`ShownOnceSecret`. The request boundary
(:class:`app.core.routing.TransactionalRoute`) then keeps no copy of a successful answer of that route: its
idempotency record holds the status and headers alone, and a replay answers 409 ``secret_not_replayed`` naming
what the first request created, rather than the secret (:mod:`app.idempotency.service`). Only the hash of an API
key is stored (:mod:`app.auth.service`), and no log line carries a key (:mod:`app.core.logging`).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, Field

SHOWN_ONCE = (
    "Shown once, in this response: it is stored nowhere (an idempotent replay of the request answers 409 "
    "`secret_not_replayed` instead of showing it again). Store it now."
)


@dataclass(frozen=True, slots=True)
class ShownOnce:
    """Marks a response field holding a secret."""


ShownOnceSecret = Annotated[str, ShownOnce(), Field(description=SHOWN_ONCE)]


def carries_secret(annotation: Any) -> bool:
    """Whether a response of this type (a model, or a list, union … of models) holds a :data:`ShownOnceSecret`."""
    return _carries(annotation, set())


def _carries(annotation: Any, seen: set[type[BaseModel]]) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(
            any(isinstance(m, ShownOnce) for m in field.metadata) or _carries(field.annotation, seen)
            for field in annotation.model_fields.values()
        )
    if typing.get_origin(annotation) is Annotated:
        return any(isinstance(m, ShownOnce) for m in annotation.__metadata__) or _carries(
            typing.get_args(annotation)[0], seen
        )
    if typing.get_origin(annotation) is not None or isinstance(annotation, types.UnionType):
        return any(_carries(argument, seen) for argument in typing.get_args(annotation))
    return False
