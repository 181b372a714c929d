"""The pages' languages: English (the messages' own language) and Russian, through gettext catalogues.

The Russian catalogue is ``locale/ru/LC_MESSAGES/messages.po``, the standard format translators and their tools
read (``make messages`` extracts the messages from the code and templates and updates it). It is compiled once
per process, when first needed, in memory (Babel's own compiler): there is no build step and no compiled file
to keep in step. Numbers and dates are formatted for the language by Babel (CLDR data).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

MINUS = "\N{MINUS SIGN}"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")
DEFAULT = "en"
NAMES = {"en": "English", "ru": "Русский"}


def N_(message: str) -> str:
    return message


# Messages the service writes in English that the pages show as they are, translated when the catalogue has them:
# the titles of its refusals, and the reasons a key does not sign in.
SERVICE_MESSAGES = (
    N_("Authentication required"),
    N_("Forbidden"),
    N_("Not found"),
    N_("Request is not valid"),
    N_("Service unavailable"),
    N_("Too many requests in progress"),
    N_("Form expired"),
    N_("Sign-in link not usable"),
    N_("The API key is malformed."),
    N_("The API key is not valid."),
    N_("The API key has been revoked."),
    N_("The API key has expired."),
    N_("The form was not sent from this session's page (or the session ended): open it again."),
    N_("This sign-in link has been used or has expired, or an API key exists already: sign in with a key."),
)


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English: the messages as they are written)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page's language: the ``lang`` query parameter, else the ``lang`` cookie, else the first of
    ``Accept-Language`` (by its q values) that the pages speak, else English."""
    for explicit in (query, cookie):
        if explicit in LANGUAGES:
            return explicit
    for tag in _by_preference(accept_language or ""):
        try:
            language = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LANGUAGES:
            return language
    return DEFAULT


def _by_preference(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


@dataclass(frozen=True, slots=True)
class Formats:
    """Numbers and dates in a language's way (CLDR through Babel)."""

    language: str
    locale: Locale = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locale", Locale.parse(self.language))  # parsed once, not on every figure

    def number(self, value: int | float | Decimal | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = None if digits == 0 else "#,##0." + "0" * digits
        return format_decimal(value, format=pattern, locale=self.locale)

    def compact(self, value: int | float | Decimal | None) -> str:
        if value is None:
            return "—"
        return format_compact_decimal(value, locale=self.locale, fraction_digits=1)

    def percent(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
        return format_percent(value, format=pattern, locale=self.locale)

    def points(self, value: float | None) -> str:
        """A change of a share, in percentage points, with its sign."""
        if value is None:
            return "—"
        sign = "+" if value > 0 else MINUS if value < 0 else "±"
        return sign + format_decimal(abs(value) * 100, format="#,##0.#", locale=self.locale)

    def signed(self, value: int | float | None) -> str:
        if value is None:
            return "—"
        sign = "+" if value > 0 else MINUS if value < 0 else "±"
        return sign + format_decimal(abs(value), locale=self.locale)

    def money(self, value: int | float | Decimal | None, currency: str | None) -> str:
        if value is None:
            return "—"
        if not currency:
            return self.number(value)
        return format_currency(value, currency, locale=self.locale, format_type="standard")

    def day(self, value: date | datetime | None, form: str = "medium") -> str:
        if value is None:
            return "—"
        if isinstance(value, datetime):
            return format_date(value.date(), format=form, locale=self.locale)
        return format_date(value, format=form, locale=self.locale)

    def month(self, value: date) -> str:
        return format_date(value, format="LLL yyyy", locale=self.locale)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return format_datetime(value, format="medium", tzinfo=None, locale=self.locale) + " UTC"
