"""Charts drawn on the server as SVG: the geometry here, the markup in the templates (escaped like any other).

No chart library runs in the browser: the overview ships no script for its charts, draws at once, prints, and
reads with a screen reader (each chart has a title, a description and the same figures in a table).
bench/README.md ("The pages") compares this with shipping a client-side chart library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.analytics.overview import Overview, VersionMark
from app.analytics.schemas import AccountabilityRow, BasisRow
from app.analytics.views import StrategyHistory

WIDTH = 720
HEIGHT = 240
LEFT = 48
RIGHT = 12
TOP = 12
BOTTOM = 28


@dataclass(frozen=True, slots=True)
class Bar:
    period: date
    x: float
    width: float
    data_y: float
    data_height: float
    emotion_y: float
    emotion_height: float
    total: float
    data: float
    emotion: float
    data_share: float | None


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: int
    bottom: float
    top: int
    bars: list[Bar]
    ticks: list[tuple[float, float]]  # (value, y)
    empty: bool


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def basis_by_month(rows: list[BasisRow]) -> BarChart:
    """Stacked bars per month: decisions (or budget) on data below, on emotions above."""
    plot_height = HEIGHT - TOP - BOTTOM
    peak = _nice_ceiling(max((float(r.total) for r in rows), default=0.0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(rows), 1)
    bars = []
    for index, row in enumerate(rows):
        data_height = float(row.data) / peak * plot_height
        emotion_height = float(row.emotion) / peak * plot_height
        base = TOP + plot_height
        bars.append(
            Bar(
                period=row.period_start or date.min,
                x=round(LEFT + index * slot + slot * 0.15, 2),
                width=round(slot * 0.7, 2),
                data_y=round(base - data_height, 2),
                data_height=round(data_height, 2),
                emotion_y=round(base - data_height - emotion_height, 2),
                emotion_height=round(emotion_height, 2),
                total=float(row.total),
                data=float(row.data),
                emotion=float(row.emotion),
                data_share=row.data_share,
            )
        )
    ticks = [(peak * step / 4, round(TOP + plot_height - plot_height * step / 4, 2)) for step in range(5)]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom=TOP + plot_height,
        top=TOP,
        bars=bars,
        ticks=ticks,
        empty=not any(r.total for r in rows),
    )


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    version: VersionMark


@dataclass(slots=True)
class Lane:
    strategy: str
    title: str
    y: float
    changes: int
    unexplained: int
    unstable: bool
    current_version: int | None
    marks: list[Mark] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Timeline:
    width: int
    height: int
    left: int
    right: int
    lanes: list[Lane]
    months: list[tuple[date, float]]


LANE_HEIGHT = 36
LABEL_WIDTH = 160


def strategy_timeline(figures: Overview) -> Timeline:
    """One lane per strategy across the range, a mark per version that took effect in it."""
    start, end = figures.start, figures.end
    span = (end - start).total_seconds() or 1.0
    right = WIDTH - RIGHT

    def x_of(moment: datetime) -> float:
        return round(LABEL_WIDTH + (moment - start).total_seconds() / span * (right - LABEL_WIDTH), 2)

    lanes: dict[str, Lane] = {}
    for index, row in enumerate(figures.strategy_changes.rows):
        lanes[row.strategy] = Lane(
            strategy=row.strategy,
            title=row.title,
            y=TOP + index * LANE_HEIGHT + LANE_HEIGHT / 2,
            changes=row.changes,
            unexplained=row.unexplained_changes,
            unstable=row.unstable,
            current_version=row.current_version,
        )
    for version in figures.versions:
        lane = lanes.get(version.strategy)
        if lane is not None:
            lane.marks.append(Mark(x=x_of(version.effective_from), version=version))
    months = []
    cursor = date(start.year, start.month, 1)
    while True:
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        moment = datetime(cursor.year, cursor.month, 1, tzinfo=start.tzinfo)
        if moment >= end:
            break
        months.append((cursor, x_of(moment)))
    height = TOP + max(len(lanes), 1) * LANE_HEIGHT + BOTTOM
    return Timeline(
        width=WIDTH, height=height, left=LABEL_WIDTH, right=right, lanes=list(lanes.values()), months=months
    )


SORTS = ("owner", "decisions", "data_share", "reviewed", "overdue_reviews", "reversal_rate")


def sorted_owners(rows: list[AccountabilityRow], sort: str) -> list[AccountabilityRow]:
    """The owners table in the order the reader chose (``-`` first: descending); empty values last either way,
    then by owner."""
    descending = sort.startswith("-")
    column = sort.lstrip("-")
    present = [r for r in rows if getattr(r, column) is not None]
    absent = sorted((r for r in rows if getattr(r, column) is None), key=lambda r: r.owner)
    ordered = sorted(sorted(present, key=lambda r: r.owner), key=lambda r: getattr(r, column), reverse=descending)
    return ordered + absent


@dataclass(frozen=True, slots=True)
class VersionDot:
    x: float
    number: int
    unexplained: bool
    hasty: bool
    effective_from: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class VersionTimeline:
    width: int
    height: int
    left: int
    right: int
    y: float
    dots: list[VersionDot]
    years: list[tuple[int, float]]


def version_timeline(history: StrategyHistory) -> VersionTimeline:
    """One strategy's versions on a line from its first version to today."""
    right = WIDTH - RIGHT
    left = LEFT
    versions = [v.version for v in history.versions]
    if not versions:
        return VersionTimeline(WIDTH, 80, left, right, 36, [], [])
    start = versions[0].effective_from
    end = max(datetime.now(start.tzinfo), versions[-1].effective_from)
    span = (end - start).total_seconds() or 1.0

    def x_of(moment: datetime) -> float:
        return round(left + (moment - start).total_seconds() / span * (right - left), 2)

    dots = [
        VersionDot(
            x=x_of(change.version.effective_from),
            number=change.version.number,
            unexplained=change.unexplained,
            hasty=change.hasty,
            effective_from=change.version.effective_from,
            summary=change.version.summary,
        )
        for change in history.versions
    ]
    years = [
        (year, x_of(datetime(year, 1, 1, tzinfo=start.tzinfo))) for year in range(start.year + 1, end.year + 1)
    ]
    return VersionTimeline(WIDTH, 80, left, right, 36, dots, years)
