"""RFC 8785 (JSON Canonicalization Scheme) serialisation, fast enough for the write path.

The ``rfc8785`` package is the reference (tests/integrity/test_canonical.py checks this module against it on
random values); it escapes strings character by character in Python, which made canonical JSON a fifth of
the CPU of a batch insert. Here strings go through the C encoder of the standard library's ``json`` (the
same escapes JCS asks for: ``"``, ``\\``, the short forms of ``\\b \\f \\n \\r \\t``, ``\\u00xx`` in lower
case for the other control characters, everything else as UTF-8), numbers follow ECMAScript's
Number.prototype.toString, and object members are sorted by their UTF-16 code units. Anything outside
that (integers beyond ±2**53, non-string keys, NaN, lone surrogates) is handed to the reference, which
refuses it the way it always did.
"""

from __future__ import annotations

import math
from json.encoder import encode_basestring
from typing import Any

import rfc8785

SAFE_INTEGER = 2**53 - 1


def dumps(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (dicts, lists, str, int, float, bool, None)."""
    parts: list[str] = []
    try:
        _write(value, parts)
        return "".join(parts).encode("utf-8")
    except (_Unsupported, UnicodeEncodeError):
        return rfc8785.dumps(value)


class _Unsupported(Exception):
    """A value this module leaves to the reference implementation."""


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if -SAFE_INTEGER <= value <= SAFE_INTEGER:
            out.append(str(int(value)))
        else:
            raise _Unsupported
    elif isinstance(value, float):
        out.append(number(value))
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise _Unsupported
        keys = sorted(value) if all(key.isascii() for key in value) else sorted(value, key=_utf16)
        out.append("{")
        for i, key in enumerate(keys):
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise _Unsupported


def _utf16(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def number(value: float) -> str:
    """ECMAScript's Number::toString of a finite double: the shortest digits that round-trip (Python's
    ``repr`` finds the same), placed as ECMA-262 (7.1.12.1) says."""
    if not math.isfinite(value):
        raise _Unsupported
    if value == 0:
        return "0"
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
