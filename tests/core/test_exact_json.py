"""Answers are written by orjson, which takes integers of at most 64 bits; a wider one (PostgreSQL's JSONB gives a
whole number such as 1e30 back as 31 digits) is written as its exact digits rather than failing the answer."""

from __future__ import annotations

import json
from decimal import Decimal

from app.core.http import exact_json


def test_integers_beyond_64_bits_are_written_as_their_digits_beside_exact_amounts():
    content = {"items": [{"target_value": 10**30, "budget": Decimal("15000.50"), "n": 2**63 - 1}], "low": -(2**70)}

    written = exact_json(content)

    assert json.loads(written) == {
        "items": [{"target_value": 10**30, "budget": 15000.5, "n": 2**63 - 1}],
        "low": -(2**70),
    }
    assert b"1000000000000000000000000000000" in written
