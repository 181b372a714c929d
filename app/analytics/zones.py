"""Local calendars for the analytics: an IANA zone's offsets, from the pinned ``tzdata`` package through
``zoneinfo``, and the SQL that turns a UTC timestamp into the zone's wall-clock time.

Both engines get the zone's rules from here, never from the database server or the machine (PostgreSQL's own
zone database may be another release, SQLite has none): the offsets in force over a query's range are written
into the statement as a search on the UTC instant (``CASE``, nested as a binary search), so the engines bucket
the same wall-clock times. The process's own zone (``TZ``, ``PGTZ``) plays no part.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal_column
from sqlalchemy.sql.elements import Grouping

from app.core.errors import FieldError, Unprocessable

UTC_NAME = "UTC"
# The instants the offsets are known for: every timestamp the API takes (app.core.types.EARLIEST, LATEST), with
# room for the local midnights of their dates in any zone.
_SCAN_FROM = int(datetime(1969, 12, 25, tzinfo=UTC).timestamp())
_SCAN_TO = int(datetime(2100, 1, 8, tzinfo=UTC).timestamp())
_DAY = 86_400


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every zone name the pinned tzdata release knows (``UTC``, ``Europe/Berlin``, ``Asia/Kathmandu``, …)."""
    return frozenset(resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


def check_zone(name: str, loc: tuple[str, ...] = ("query", "tz")) -> str:
    """``name`` when it is an IANA zone of the pinned tzdata, else 422 naming ``loc``."""
    if name not in zone_names():
        # A validation error like any other bad parameter (code validation_failed), of its own type.
        raise Unprocessable(
            f"Unknown time zone {name!r}: give an IANA zone name such as `Europe/Berlin` or `UTC`.",
            errors=[FieldError(loc=list(loc), msg="unknown IANA time zone", type="value_error.unknown_time_zone")],
        )
    return name


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The zone from the pinned tzdata package itself (not from the machine's /usr/share/zoneinfo)."""
    check_zone(name)
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as file:
        return ZoneInfo.from_file(file, key=name)


def _offset(info: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, info).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@lru_cache(maxsize=64)
def transitions(name: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The zone's offset changes between 1970 and 2100: (instants, offsets) where ``offsets[0]`` is in force
    before ``instants[0]`` and ``offsets[i + 1]`` from ``instants[i]`` on (Unix seconds, offsets in seconds).

    Read by sampling the zone once a day and finding each change to the second (an offset that changes and
    changes back within one day, which no zone has done since 1970, would go unseen)."""
    info = zone(name)
    instants: list[int] = []
    offsets = [_offset(info, _SCAN_FROM)]
    for day in range(_SCAN_FROM + _DAY, _SCAN_TO + 1, _DAY):
        offset = _offset(info, day)
        if offset == offsets[-1]:
            continue
        low, high = day - _DAY, day  # offset(low) is the previous one, offset(high) the new one
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(info, middle) == offsets[-1]:
                low = middle
            else:
                high = middle
        instants.append(high)
        offsets.append(offset)
    return tuple(instants), tuple(offsets)


@dataclass(frozen=True)
class Clock:
    """The wall clock of ``name`` over [start, end): what the SQL needs to read UTC timestamps as local times."""

    name: str
    bounds: tuple[datetime, ...]  # the UTC instants where the offset changes within the range
    offsets: tuple[int, ...]  # len(bounds) + 1 offsets in seconds: before bounds[0], from bounds[0], …

    @property
    def is_utc(self) -> bool:
        return not self.bounds and self.offsets == (0,)

    def wall(self, column: Any, dialect: str) -> Any:
        """``column`` (a UTC timestamp) as the zone's wall-clock time, in the form :func:`app.core.dialect.time_bucket`
        reads: a ``timestamptz`` whose UTC reading is the local time on PostgreSQL, the text
        ``YYYY-MM-DD HH:MM:SS`` on SQLite. UTC gives ``column`` itself (the plain UTC statement)."""
        if self.is_utc:
            return column
        offset = _search(column, list(self.bounds), list(self.offsets))
        if dialect == "postgresql":
            # Parenthesised: the caller may apply AT TIME ZONE, which binds tighter than +.
            return Grouping(column + offset * literal_column("interval '1 second'"))
        # Whole seconds: the fraction never moves a date, and SQLite's date functions round it to milliseconds.
        return func.datetime(func.substr(column, 1, 19), func.printf("%+d seconds", offset))


def _search(column: Any, bounds: list[datetime], offsets: list[int]) -> Any:
    """The offset in force at ``column``: a binary search over the bounds, as nested CASEs."""
    if not bounds:
        return literal_column(str(int(offsets[0])))
    middle = len(bounds) // 2
    return case(
        (column < bounds[middle], _search(column, bounds[:middle], offsets[: middle + 1])),
        else_=_search(column, bounds[middle + 1 :], offsets[middle + 1 :]),
    )


def clock(name: str, start: datetime, end: datetime) -> Clock:
    """The offsets of ``name`` that matter for timestamps in [start, end)."""
    if name == UTC_NAME:
        return Clock(name, (), (0,))
    instants, offsets = transitions(name)
    first = bisect.bisect_right(instants, int(start.timestamp()))
    last = bisect.bisect_right(instants, int(end.timestamp()))
    bounds = tuple(datetime.fromtimestamp(i, UTC) for i in instants[first:last])
    return Clock(name, bounds, tuple(offsets[first : last + 1]))


def local_date(moment: datetime, name: str) -> date:
    """The date on the zone's wall clock at ``moment``."""
    return moment.astimezone(zone(name)).date()


def local_midnight(day: date, name: str) -> datetime:
    """The first instant of ``day`` in the zone, in UTC. Where the clocks skip midnight (a spring-forward at
    00:00), the day starts when they skip it: the instant that 00:00 at the earlier offset names."""
    return datetime.combine(day, time(0), tzinfo=zone(name)).astimezone(UTC)
