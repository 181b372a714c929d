"""Exact money: budget amounts are decimals from the request body to every answer, and currencies are ISO 4217.

The rules, everywhere a budget is taken or given:

- **Amounts** are JSON numbers (a string such as ``"15000"`` is refused), at least 0 and below
  :data:`AMOUNT_LIMIT` (10**14: at most 99,999,999,999,999.99 in a currency with cents), with no more
  decimal places than the currency's ISO 4217 minor unit (JPY 0, EUR 2, KWD 3, CLF 4; the currencies
  without one, such as gold or the SDR, up to 4). The body is parsed with every number's digits kept
  (:func:`parse_json`): the amount never passes through a binary float.
- **Storage**: an integer count of ten-thousandths (:data:`SCALE`; 15000.5 is 150005000) in a 64-bit column on
  both engines (:class:`MoneyUnits`). 10**14 ten-thousandths fit 64 bits with room to spare, and four places
  hold every ISO 4217 minor unit. Sums are exact: SQLite adds integers, and each amount's high and low parts
  (:func:`split_units`) are added apart, so no number of decisions overflows a 64-bit sum.
- **Answers** write the amount as an exact JSON number, with as few digits as it needs (``15000.5``,
  ``99999999999999.99``): :func:`json_default` renders it for orjson.
- **Logged and snapshot form** (the tamper-evident log's RFC 8785 content and the revisions' snapshots, both
  ``model_dump(mode="json")``): RFC 8785 numbers are IEEE doubles, and a double cannot hold every amount (it
  turns 99999999999999.99 into …98). So an amount is a JSON number when that number is exactly the amount (an
  integer, or a double whose shortest form spells it: every amount of up to 15 significant digits), and
  otherwise a JSON string of its exact decimal (:func:`json_value`). Both spell the exact amount; the form is a
  function of the amount alone, so the same amount always gives the same canonical bytes, and the entries
  logged before amounts were exact (floats of amounts up to 15 digits) keep verifying.
- **Currencies** come from the ISO 4217 list as the ``iso4217`` package ships it (the list published by the
  maintenance agency, with each currency's minor unit). ``XXX`` ("no currency") and ``XTS`` (testing) are on
  that list but are not money, and are refused too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import iso4217
import orjson
from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError, to_jsonable_python
from sqlalchemy import BigInteger, ColumnElement, Dialect, type_coerce
from sqlalchemy.types import TypeDecorator

SCALE = 4  # stored in ten-thousandths: the largest ISO 4217 minor unit (CLF, UYW)
AMOUNT_LIMIT = Decimal(10) ** 14  # amounts are below this: 14 digits before the decimal point at most
SPLIT = 10**9  # units = high * SPLIT + low; each part of an amount below 10**9, so 9 billion of them sum in 64 bits

# ISO 4217: code → digits of the minor unit (None where the standard gives none: metals, SDR, bond units).
MINOR_UNITS: dict[str, int | None] = {currency.code: currency.exponent for currency in iso4217.Currency}
NOT_MONEY = {"XXX": "no currency is involved", "XTS": "it is reserved for testing"}
ISO_4217_PUBLISHED = iso4217.__published__.isoformat()


# ---------------------------------------------------------------------------------------------
# Request bodies: numbers with their digits
# ---------------------------------------------------------------------------------------------


class JsonNumber(float):
    """A JSON number with a fraction or an exponent, as the body spelled it: a float to every field that wants one
    (pydantic turns it into a plain float), and its exact digits to an amount (``text``)."""

    __slots__ = ("text",)
    text: str


def _json_number(text: str) -> JsonNumber:
    number = JsonNumber(text)  # float's own constructor (a __new__ of ours would cost a Python call more)
    number.text = text
    return number


_DECODER = json.JSONDecoder(parse_float=_json_number)  # made once: json.loads(…, parse_float=…) makes one a call


def parse_json(body: bytes) -> Any:
    """A JSON request body, its numbers with a fraction or exponent as :class:`JsonNumber`; the encoding as
    :func:`json.loads` detects it."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


# ---------------------------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------------------------


def _requested_amount(value: Any) -> Decimal:
    """An amount a client sends: a JSON number (int, or the digits of :class:`JsonNumber`), exact, finite,
    0 ≤ amount < 10**14, at most 4 decimal places (the currency's own limit is checked with it:
    :func:`decimal_places_error`)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("decimal_type", "must be a JSON number")
    amount = _exact(value)
    if not amount.is_finite():
        raise PydanticCustomError("finite_number", "must be a finite number")
    if amount < 0:
        raise PydanticCustomError("greater_than_equal", "must be at least 0")
    if amount >= AMOUNT_LIMIT:
        raise PydanticCustomError(
            "less_than", "must be below 100000000000000 (10^14; at most 99999999999999.99 with cents)"
        )
    if _places(amount) > SCALE:
        raise PydanticCustomError("decimal_max_places", "must have at most 4 decimal places")
    return amount


def _exact(value: int | float | Decimal) -> Decimal:
    if isinstance(value, JsonNumber):
        return Decimal(value.text)
    if isinstance(value, float):
        return Decimal(repr(value))  # a float from Python code: the decimal it prints as
    return Decimal(value)


def _significant(amount: Decimal) -> tuple[int, tuple[int, ...], int]:
    """Sign, digits and exponent of a finite amount, trailing zeros dropped (``15000.50`` is 150005 * 10**-1),
    without rounding to a decimal context."""
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    end = len(digits)
    while end > 1 and digits[end - 1] == 0:
        end -= 1
    return sign, digits[:end], exponent + len(digits) - end


def _places(amount: Decimal) -> int:
    """Decimal places the value needs (``15000.50`` needs 1)."""
    _, digits, exponent = _significant(amount)
    return 0 if digits == (0,) else max(0, -exponent)


def minor_unit(currency: str) -> int | None:
    """The decimal places an amount in ``currency`` may have; None when it is not an ISO 4217 currency."""
    if currency not in MINOR_UNITS or currency in NOT_MONEY:
        return None
    digits = MINOR_UNITS[currency]
    return SCALE if digits is None else digits


def decimal_places_error(amount: Decimal, currency: str) -> str | None:
    """Why ``amount`` cannot be an amount in ``currency``, or None when it can."""
    digits = minor_unit(currency)
    if digits is None:
        return f"{currency} is not an ISO 4217 currency"
    if _places(amount) > digits:
        unit = "no minor unit: whole amounts only" if digits == 0 else f"{digits} decimal places at most"
        return f"{currency} has {unit} (ISO 4217)"
    return None


def stored_amount(value: Any) -> Any:
    """An amount read back: a Decimal, or its logged form (:func:`json_value`) from a snapshot, as a Decimal."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return _exact(Decimal(value) if isinstance(value, str) else value)
    return value


def plain(amount: Decimal) -> str:
    """The amount's digits, as few as it needs, never in exponent form: ``15000.5``, ``15000``, ``0.01``."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def json_value(amount: Decimal) -> int | float | str:
    """The amount in logged and snapshot JSON (see the module's docstring): an integer, a double whose shortest form
    (RFC 8785's, Python's ``repr``) is the amount's digits, or else the exact decimal as a string."""
    if amount == amount.to_integral_value() and abs(amount) <= 2**53:
        return int(amount)
    number = float(amount)
    if Decimal(repr(number)) == amount:
        return number
    return plain(amount)


def json_default(value: Any) -> Any:
    """orjson's ``default`` for answers: a Decimal as an exact JSON number; anything else as pydantic writes it."""
    if isinstance(value, Decimal):
        return orjson.Fragment(plain(value))
    return to_jsonable_python(value)


def answer_form(decision: dict[str, Any]) -> dict[str, Any]:
    """A decision's logged JSON form (the write path's) with its amount as an exact JSON number, for an answer."""
    amount = decision["budget_amount"]
    if isinstance(amount, str):
        return {**decision, "budget_amount": orjson.Fragment(amount)}
    return decision  # an int, or a double whose shortest form orjson writes: the amount's digits


# A budget amount a client sends.
Money = Annotated[
    Decimal,
    BeforeValidator(_requested_amount),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "exclusiveMaximum": 100000000000000,
            "examples": [15000],
        }
    ),
]
# A budget amount the API answers: exact; its JSON (logged, snapshot) form is :func:`json_value`'s.
MoneyOut = Annotated[
    Decimal,
    BeforeValidator(stored_amount),
    PlainSerializer(json_value, when_used="json"),
    WithJsonSchema({"type": "number", "examples": [15000.5]}),
]


# ---------------------------------------------------------------------------------------------
# Currencies
# ---------------------------------------------------------------------------------------------


def _iso_4217(code: str) -> str:
    if code in NOT_MONEY:
        raise PydanticCustomError("currency", "{code} is not a currency: {why}", {"code": code, "why": NOT_MONEY[code]})
    if code not in MINOR_UNITS:
        raise PydanticCustomError("currency", "{code} is not an ISO 4217 currency code", {"code": code})
    return code


CURRENCY_RULE = (
    f"An ISO 4217 currency code in upper case (the ISO 4217 list of {ISO_4217_PUBLISHED}); "
    "XXX (no currency) and XTS (testing) are refused."
)
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_iso_4217),
]


# ---------------------------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------------------------


def to_units(amount: Decimal) -> int:
    """Ten-thousandths of the currency's unit, in integer arithmetic (no rounding to a decimal context)."""
    sign, digits, exponent = _significant(amount)
    if digits == (0,):
        return 0
    if -exponent > SCALE:
        raise ValueError(f"{amount} has more than {SCALE} decimal places")
    value: int = int("".join(map(str, digits))) * 10 ** (exponent + SCALE)
    return -value if sign else value


def from_units(units: int) -> Decimal:
    """The amount of ``units`` ten-thousandths, exact however many digits, written with the digits it needs
    (``str()`` gives ``15000.5``, ``15000``: what a page or a log line shows)."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(int(units)), 10**SCALE)
    decimals = f"{fraction:0{SCALE}d}".rstrip("0")
    return Decimal(f"{sign}{whole}.{decimals}" if decimals else f"{sign}{whole}")


def split_units(amount: ColumnElement[Any]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """SQL for the high and low parts of a stored amount (a :class:`MoneyUnits` column): ``units / SPLIT`` and
    ``units % SPLIT``, both below 10**9, so sums of each stay within 64 bits where one sum of the amounts would
    not (SQLite refuses an integer SUM past 2**63)."""
    units = type_coerce(amount, BigInteger)
    return units // SPLIT, units % SPLIT


def from_parts(high: Any, low: Any) -> Decimal:
    """An exact sum of amounts from the sums of their parts (:func:`split_units`), as the database added them."""
    return from_units(int(high or 0) * SPLIT + int(low or 0))


class MoneyUnits(TypeDecorator[Decimal]):
    """An amount stored as an integer count of ten-thousandths (64 bits, on both engines), read back as a Decimal.

    SQL that adds amounts works on the integers (:func:`app.analytics.queries`), in their two parts."""

    impl = BigInteger
    cache_ok = True

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_units(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_units(value)
