"""app.integrity.canonical gives the very bytes of the reference RFC 8785 implementation (``rfc8785``)."""

from __future__ import annotations

import math
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from app.integrity import canonical

SAFE = 2**53 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(values)
def test_random_values_serialise_as_the_reference_does(value: object) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)


@settings(max_examples=1500, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_every_kind_of_double_formats_as_ecmascript_does(bits: int) -> None:
    """Random bit patterns: subnormals, huge and tiny exponents, integers beyond 2**53 as doubles."""
    value = struct.unpack("<d", bits.to_bytes(8, "little"))[0]
    if math.isfinite(value):
        assert canonical.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        1e21, 1e20, 123456789012345680000.0, 1e-7, 1e-6, 0.000001234, 100.0, -0.0, 0.1, 5e-324,
        1.7976931348623157e308, 2.0**53, -1.5e-9, 4.35, 1e16, 9007199254740993.0,
    ],
)  # fmt: skip
def test_number_boundaries(value: float) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        '\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x20\x7f"\\/',
        "\u2028\u2029é€😀",
        {"b": 1, "a": 2, "é": 3, "€": 4, "😀": 5, "\ufb01": 6, "A": 7},  # UTF-16 order: 😀 (D83D) before ﬁ (FB01)
        [{"z": [1, 2.5, {"y": None}]}, True, False, "x"],
    ],
)
def test_strings_and_member_order(value: object) -> None:
    assert canonical.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), float("nan"), float("inf"), {1: "x"}, "\ud800"])
def test_what_the_reference_refuses_is_refused(value: object) -> None:
    with pytest.raises(Exception) as expected:
        rfc8785.dumps(value)
    with pytest.raises(type(expected.value)):
        canonical.dumps(value)
