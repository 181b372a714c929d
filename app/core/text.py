"""Text a client sends: what both databases can store and the tamper-evident log can canonicalise.

Every text field of every request body, and every free-text query parameter, is declared
``Annotated[str, Text(...)]``. One check per string, before pydantic-core's own length checks:

- no NUL character (U+0000): PostgreSQL stores none in text or JSON (SQLite would, so the engines
  would disagree);
- no lone surrogate (U+D800 to U+DFFF, e.g. an escaped ``"\\ud800"`` in JSON): it is not Unicode text, so
  it cannot be encoded as UTF-8 for either database nor canonicalised (RFC 8785) for the log;
- with ``blank=False``, not only whitespace; with ``strip``, surrounding whitespace removed; with
  ``canonical``, also normalised to Unicode NFC, so values that differ only by normalisation or
  surrounding spaces are the same value (identifiers such as ``external_ref``).

A refusal is a 422 naming the field, identical on both engines. ``tests/core/test_text_fields.py`` sends
such text to every string of every operation in the spec.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import BeforeValidator, GetCoreSchemaHandler
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

_SURROGATE = re.compile("[\ud800-\udfff]")

NUL_MESSAGE = "must not contain the NUL character (U+0000): it cannot be stored"
SURROGATE_MESSAGE = "must be valid Unicode text: a lone surrogate (U+D800 to U+DFFF) cannot be stored"
BLANK_MESSAGE = "must not be blank"


def is_storable(value: str) -> bool:
    """Whether both databases can store ``value`` and the log can canonicalise it."""
    return "\x00" not in value and (value.isascii() or _SURROGATE.search(value) is None)


def storable(value: str) -> str:
    """``value`` when :func:`is_storable`; a pydantic error saying why otherwise."""
    if is_storable(value):
        return value
    if "\x00" in value:
        raise PydanticCustomError("text_nul", NUL_MESSAGE)
    raise PydanticCustomError("text_surrogate", SURROGATE_MESSAGE)


def canonical(value: str) -> str:
    """An identifier's canonical form: without surrounding whitespace, in Unicode NFC."""
    value = value.strip()
    return value if value.isascii() else unicodedata.normalize("NFC", value)


@dataclass(frozen=True, slots=True)
class Text:
    """Metadata of a text field: ``Annotated[str, Text(min_length=1, max_length=200, blank=False)]``.

    The lengths are checked by pydantic-core after this check (and after ``strip`` or ``canonical``), so
    they count what is stored.
    """

    min_length: int | None = None
    max_length: int | None = None
    blank: bool = True  # False: only whitespace is refused like empty text
    strip: bool = False  # surrounding whitespace removed
    canonical: bool = False  # stripped and NFC-normalised (identifiers)

    def check(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic-core refuses it as not a string
        storable(value)
        if self.canonical:
            value = canonical(value)
        elif self.strip:
            value = value.strip()
        if not self.blank and value and value.isspace():
            raise PydanticCustomError("text_blank", BLANK_MESSAGE)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        text = core_schema.str_schema(min_length=self.min_length, max_length=self.max_length)
        return core_schema.no_info_before_validator_function(self.check, text)


# For values parsed by another type (a URL, an e-mail address): ``Annotated[AnyHttpUrl, STORABLE]``.
STORABLE = BeforeValidator(Text().check)
