"""CSV as BI tools and spreadsheets read it: RFC 4180, UTF-8, a header row, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from starlette.responses import Response

from app.core.http import negotiate

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, nested values as compact JSON, and text that a spreadsheet
    would run as a formula prefixed with ``'`` (OWASP CSV injection): text whose first character, or
    first character after leading whitespace (spreadsheets skip it), is ``=``, ``+``, ``-``, ``@``,
    tab or CR."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES) else text


class CsvLine:
    """Renders one CSV record (with its CRLF) at a time, for streaming."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def __call__(self, values: Iterable[Any]) -> str:
        self.writer.writerow([cell(v) for v in values])
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def render(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, bom: bool = False) -> str:
    line = CsvLine()
    return (BOM if bom else "") + line(columns) + "".join(line(row.get(c) for c in columns) for row in rows)


def stream(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, bom: bool = False) -> Iterator[str]:
    line = CsvLine()
    yield (BOM if bom else "") + line(columns)
    for row in rows:
        yield line(row.get(c) for c in columns)


CSV = "text/csv"


def wants_csv(accept: str | None, explicit: str | None, *, otherwise: str = "application/json") -> bool:
    """``format=csv``; or, when no format is named, CSV preferred to ``otherwise`` by the ``Accept`` header's
    q-values (``text/csv;q=0`` never gets CSV)."""
    if explicit is not None:
        return explicit == "csv"
    return negotiate(accept, (otherwise, CSV)) == CSV


def response(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], *, bom: bool, filename: str) -> Response:
    return Response(
        render(columns, rows, bom=bom).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
