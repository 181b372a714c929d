"""RFC 8785 (JSON Canonicalization Scheme) serialisation, fast enough for the write path and for verification.

The ``rfc8785`` package is the reference (tests/integrity/test_canonical.py checks this module against it on
random values); it escapes strings character by character in Python, which made canonical JSON a fifth of
the CPU of a batch insert. Here orjson writes the JSON: its string escapes are the ones JCS asks for (``"``,
``\\``, the short forms of ``\\b \\f \\n \\r \\t``, ``\\u00xx`` in lower case for the other control characters,
everything else as UTF-8), and with ``OPT_SORT_KEYS`` it orders members as JCS does while keys are ASCII
(UTF-16 and UTF-8 orders differ only beyond it). Numbers are the one thing JCS writes differently: each double
is handed to orjson already formatted as ECMAScript's Number.prototype.toString (an ``orjson.Fragment``).
Anything outside that (non-ASCII keys, integers beyond ±2**53, non-string keys, NaN, lone surrogates, types JSON
has not) is handed to the reference, which orders or refuses it the way it always did.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import rfc8785

SAFE_INTEGER = 2**53 - 1
Fragment = orjson.Fragment


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (dicts, lists, str, int, float, bool, None)."""
    try:
        return orjson.dumps(_prepared(value), option=orjson.OPT_SORT_KEYS)
    except (_Unsupported, TypeError):  # orjson.JSONEncodeError is a TypeError
        return rfc8785.dumps(value)


class _Unsupported(Exception):
    """A value this module leaves to the reference implementation."""


def _prepared(value: Any) -> Any:
    """``value`` with every double replaced by its JCS text, for orjson to write as it stands; _Unsupported for
    anything orjson would not write as JCS does."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if type(key) is not str or not key.isascii():
                raise _Unsupported
        return {key: _prepared(item) for key, item in value.items()}
    if kind is float:
        return Fragment(number(value))
    if kind is int:
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            return value
        raise _Unsupported
    if kind is list or kind is tuple:
        return [_prepared(item) for item in value]
    # Subclasses (a StrEnum member, an IntEnum, …) as their plain values, as the reference writes them.
    for plain in (str, bool, int, float):
        if isinstance(value, plain):
            return _prepared(plain(value))
    if isinstance(value, dict):
        return _prepared(dict(value))
    if isinstance(value, list | tuple):
        return _prepared(list(value))
    raise _Unsupported


def number(value: float) -> str:
    """ECMAScript's Number::toString of a finite double: the shortest digits that round-trip (Python's
    ``repr`` finds the same), placed as ECMA-262 (7.1.12.1) says."""
    if not math.isfinite(value):
        raise _Unsupported
    if value == 0:
        return "0"
    text = repr(value)
    if "e" not in text:
        # Without an exponent (1e-4 <= |value| < 1e16), Python's shortest digits sit where ECMAScript puts them
        # (it writes no exponent from 1e-6 to 1e21); only a whole number loses Python's ".0".
        return text[:-2] if text.endswith(".0") else text
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    stripped = digits.rstrip("0")
    # value = stripped x 10**(n - k), k = len(stripped)
    k = len(stripped)
    n = k + int(exponent or 0) - len(fraction) + (len(digits) - k)
    if k <= n <= 21:
        text = stripped + "0" * (n - k)
    elif 0 < n <= 21:
        text = stripped[:n] + "." + stripped[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + stripped
    else:
        power = n - 1
        head = stripped[0] + ("." + stripped[1:] if k > 1 else "")
        text = f"{head}e{'+' if power > 0 else '-'}{abs(power)}"
    return sign + text
