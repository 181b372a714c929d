# Russian text: Cyrillic letters that look like Latin ones are meant.
# ruff: noqa: RUF001
"""The demo data set behind ``decision-log demo``: a year of a marketing team.

Two halves. :func:`build_plan` is pure data generation: from a seed and a day it draws the 12
months before that day (UTC) of a team of eight in three teams (growth, brand, performance),
their data sources, two strategies with their versions, KPIs and their revisions, and several
hundred decisions with corrections, outcome reviews, reversals and supersessions. Owners differ
in their habits (how often they decide on data, cite it, review their outcomes), so every
analytics endpoint has something to say. The same seed on the same day gives the same data.

:func:`load` records a plan through the domain services, in one transaction, exactly as the API
would: classification, strategy versions, revisions and rollups follow the same rules. What the
services stamp with the current time stays "now": the time a KPI revision, a correction or a
reversal is recorded (only strategy versions, decisions and outcome reviews carry their own time).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.auth.scopes import Scope
from app.auth.service import Caller
from app.contractors import service as contractors
from app.contractors.schemas import ContractorKind, ContractorUpsert
from app.core.types import utcnow
from app.core.unit_of_work import Database, transaction
from app.decisions import service as decisions
from app.decisions.classification import DATA_BASES, Basis, BasisClass
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import (
    DecisionCreate,
    DecisionRead,
    DecisionUpdate,
    OutcomeCause,
    OutcomeCreate,
    OutcomeResult,
    ReverseRequest,
)
from app.kpis import service as kpis
from app.kpis.errors import KpiNotFound
from app.kpis.schemas import KpiPut
from app.people import service as people
from app.people.schemas import PersonRole, PersonUpsert
from app.sources import service as sources
from app.sources.schemas import DataSourceUpsert
from app.strategies import service as strategies
from app.strategies.errors import StrategyNotFound
from app.strategies.schemas import StrategyCreate, StrategyVersionCreate

DEFAULT_SEED = 2026
DAYS = 365
BATCH = 100  # decisions per create call, as a posting tool would send them
CALLER = Caller(key_id="demo", name="decision-log demo", scope=Scope.admin)


class DemoRefused(Exception):
    """The database already holds decisions and ``force`` was not given."""


# ---------------------------------------------------------------------------------------------
# The team and its registries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    handle: str
    name: str
    team: str
    bases: dict[Basis, float]  # how often the person declares each basis
    cites: float  # the chance a data claim comes with its evidence
    reviews: float  # the chance a due decision gets its outcome review
    activity: float  # relative number of decisions
    follows_strategy: float  # the chance a decision names the team's strategy
    russian: bool = False  # writes some decisions in Russian
    left_on_day: int | None = None  # left the company: no decisions from that day on

    def active_on(self, day: int) -> bool:
        return self.left_on_day is None or day < self.left_on_day


def _bases(
    data: float, experiment: float, research: float, intuition: float, emotion: float, authority: float
) -> dict[Basis, float]:
    return {
        Basis.data: data,
        Basis.experiment: experiment,
        Basis.research: research,
        Basis.intuition: intuition,
        Basis.emotion: emotion,
        Basis.authority: authority,
    }


MEMBERS = (
    Member("anna.petrova", "Anna Petrova", "growth", _bases(45, 25, 5, 15, 5, 5), 0.92, 0.75, 1.2, 0.8, True),
    Member("dmitry.sokolov", "Дмитрий Соколов", "growth", _bases(25, 40, 5, 20, 5, 5), 0.8, 0.5, 1.0, 0.7, True),
    Member(
        "james.wilson", "James Wilson", "growth", _bases(30, 10, 10, 30, 10, 10), 0.6, 0.35, 0.8, 0.6, left_on_day=240
    ),
    Member("olga.smirnova", "Ольга Смирнова", "brand", _bases(10, 5, 20, 35, 15, 15), 0.55, 0.3, 1.0, 0.7, True),
    Member("emily.clark", "Emily Clark", "brand", _bases(15, 5, 10, 30, 35, 5), 0.4, 0.2, 0.9, 0.45),
    Member("ivan.kuznetsov", "Ivan Kuznetsov", "brand", _bases(15, 0, 5, 25, 15, 40), 0.5, 0.1, 0.7, 0.35, True),
    Member("sergey.volkov", "Sergey Volkov", "performance", _bases(55, 20, 0, 10, 5, 10), 0.95, 0.7, 1.3, 0.85, True),
    Member("laura.bennett", "Laura Bennett", "performance", _bases(50, 10, 0, 15, 10, 15), 0.45, 0.3, 1.0, 0.6),
)
BY_HANDLE = {m.handle: m for m in MEMBERS}
LEADS = {"growth": "anna.petrova", "brand": "olga.smirnova", "performance": "sergey.volkov"}
TEAM_STRATEGY = {"growth": "profitable-growth", "performance": "profitable-growth", "brand": "brand-platform"}

SOURCES: tuple[tuple[str, str, str, str | None], ...] = (
    ("ga4", "Google Analytics 4", "analytics", "https://analytics.google.com/"),
    ("google-ads", "Google Ads", "ads", "https://ads.google.com/"),
    ("yandex-direct", "Яндекс Директ", "ads", "https://direct.yandex.ru/"),
    ("crm", "CRM (amoCRM)", "crm", "https://crm.example.com/"),
    ("ab-platform", "GrowthBook experiments", "experiment", "https://growthbook.example.com/"),
    ("brand-tracker", "Brand health tracker (quarterly panel)", "research", None),
    ("nps-survey", "Customer NPS survey", "survey", "https://forms.example.com/nps"),
    ("finance-bi", "Finance BI: marketing P&L", "finance", "https://bi.example.com/finance"),
)

CHANNELS = {
    "paid_search": ("paid search", "контекстная реклама"),
    "social": ("paid social", "соцсети"),
    "email": ("email", "email-рассылки"),
    "seo": ("SEO", "SEO"),
    "display": ("display", "медийная реклама"),
    "content": ("content", "контент"),
    "events": ("events", "мероприятия"),
    "affiliates": ("affiliates", "партнёрская программа"),
}
TEAM_CHANNELS = {
    "growth": {"paid_search": 3, "email": 3, "social": 2, "affiliates": 2, "seo": 2, "content": 1},
    "brand": {"content": 3, "social": 3, "events": 3, "display": 2, "seo": 1},
    "performance": {"paid_search": 5, "display": 3, "social": 3, "affiliates": 2, "email": 1},
}
TEAM_CATEGORIES = {
    "growth": {
        "budget": 3,
        "channel_mix": 2,
        "creative": 2,
        "pricing": 2,
        "targeting": 2,
        "contractor": 1,
        "kpi": 1,
        "strategy": 0.5,
        "other": 1,
    },
    "brand": {
        "creative": 3,
        "positioning": 3,
        "budget": 2,
        "contractor": 2,
        "channel_mix": 1,
        "strategy": 1,
        "kpi": 0.5,
        "targeting": 0.5,
        "other": 1,
    },
    "performance": {
        "budget": 4,
        "targeting": 3,
        "channel_mix": 2,
        "creative": 2,
        "contractor": 1,
        "kpi": 1,
        "pricing": 0.5,
        "other": 0.5,
    },
}
# More decisions before the autumn season, fewer in the summer and over the holidays.
MONTH_WEIGHT = {1: 0.7, 2: 0.9, 3: 1.1, 4: 1.1, 5: 1.0, 6: 0.9, 7: 0.7, 8: 0.6, 9: 1.2, 10: 1.3, 11: 1.3, 12: 0.9}
WEEKDAY_WEIGHT = (1.0, 1.1, 1.0, 1.0, 0.8, 0.05, 0.02)

# KPIs: (key, name, unit, kind, target, direction, owner). Two of six are tied to money.
KPIS: tuple[tuple[str, str, str, str, float, str, str | None], ...] = (
    ("cac", "Customer acquisition cost", "EUR", "money", 50.0, "decrease", "sergey.volkov"),
    ("marketing-revenue", "Marketing-sourced revenue per month", "EUR", "money", 400000.0, "increase", "anna.petrova"),
    ("leads", "Marketing-qualified leads per month", "leads", "activity", 1200.0, "increase", "dmitry.sokolov"),
    ("brand-awareness", "Aided brand awareness", "%", "activity", 30.0, "increase", "olga.smirnova"),
    ("social-reach", "Monthly social reach", "people", "activity", 500000.0, "increase", None),
    ("content-output", "Content pieces published per month", "pieces", "activity", 20.0, "increase", None),
)
# Revisions over the year, in the order they are made: (key, changes, change_reason).
KPI_REVISIONS: tuple[tuple[str, dict[str, Any], str | None], ...] = (
    ("cac", {"target": 45.0}, "Q2 target agreed with finance."),
    ("leads", {"target": 1500.0}, None),
    ("content-output", {"owner": "james.wilson"}, "James runs the editorial calendar now."),
    ("social-reach", {"target": 800000.0}, None),
    ("brand-awareness", {"owner": "emily.clark"}, "Emily took over the brand tracker."),
    ("leads", {"target": 1000.0}, "Sales can handle at most 1,000 leads a month."),
    ("content-output", {"owner": None}, "James left the company."),
    ("cac", {"target": 40.0}, None),
    ("social-reach", {"target": 600000.0}, ""),
)
KPI_BY_KEY = {k[0]: k for k in KPIS}
CHANNEL_KPIS = {
    "paid_search": ("cac", "marketing-revenue", "leads"),
    "display": ("cac", "brand-awareness", "leads"),
    "affiliates": ("cac", "marketing-revenue"),
    "email": ("leads", "marketing-revenue"),
    "seo": ("leads", "content-output"),
    "social": ("social-reach", "leads", "brand-awareness"),
    "content": ("content-output", "social-reach", "brand-awareness"),
    "events": ("brand-awareness", "leads"),
}

# Strategies: versions as (day, summary, change_reason, changed_by). profitable-growth changes
# about once a quarter with reasons (one without); brand-platform is rewritten every few weeks,
# often without a word why.
STRATEGIES = {
    "profitable-growth": (
        "Profitable growth through performance channels",
        "How growth and performance acquire customers at a CAC the business can afford.",
        (
            (0, "Grow revenue through paid search and email at a CAC under 50 EUR.", None, "sergey.volkov"),
            (
                95,
                "Add affiliates as a third acquisition channel.",
                "The affiliate pilot returned ROMI 2.4 at half the CAC of paid search.",
                "anna.petrova",
            ),
            (
                190,
                "Cut display to retargeting only.",
                "Display prospecting CAC was three times the target for two quarters.",
                "sergey.volkov",
            ),
            (300, "Retention first: email and CRM offers get 30% of the budget.", "", "anna.petrova"),
        ),
    ),
    "brand-platform": (
        "Brand platform",
        "What the brand stands for and how it speaks.",
        (
            (18, "The premium, trusted choice.", None, "olga.smirnova"),
            (66, "Lead with price: best value in the category.", None, "ivan.kuznetsov"),
            (84, "Back to premium, with sustainability claims.", "Price messaging cut the average order value.", None),
            (127, "Sustainability first.", "", "emily.clark"),
            (149, "Focus on young families.", "CEO feedback after the brand workshop.", "olga.smirnova"),
            (204, "Premium again, with a loyalty angle.", None, "olga.smirnova"),
            (226, "Loyalty-led brand with a new slogan.", "The new slogan won the focus groups.", "emily.clark"),
            (289, "Local heroes: regional brand campaigns.", None, "ivan.kuznetsov"),
            (316, "A national campaign with a celebrity face.", "The board asked for national reach.", None),
        ),
    ),
}

# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

TITLES = {
    "budget": (
        "Increase the {ch} budget by {pct}% for {period}",
        "Cut the {ch} budget by {pct}% for {period}",
        "Move {pct}% of the {other} budget to {ch}",
        "Freeze {ch} spend until the end of the month",
        "Extra {ch} budget for the {campaign} campaign",
    ),
    "channel_mix": (
        "Shift {pct}% of spend from {other} to {ch}",
        "Launch {ch} in {region}",
        "Pause {other} and put its budget into {ch}",
        "Make {ch} the lead channel for {campaign}",
    ),
    "creative": (
        "Refresh the {ch} creatives for {campaign}",
        "Switch {ch} ads to short user-generated video",
        "New visual style for {ch}",
        "Test emotional headlines against price headlines in {ch}",
    ),
    "pricing": (
        "A {pct}% discount for new customers promoted via {ch}",
        "Lower the free-delivery threshold shown in {ch}",
        "Bundle offer for {segment} in {ch}",
    ),
    "positioning": (
        "Lead with reliability instead of price in {ch}",
        "Position the product for {segment} in {ch}",
        "Drop the 'cheapest on the market' claim from {ch}",
    ),
    "targeting": (
        "Exclude existing customers from {ch} prospecting",
        "Target lookalikes of top-decile customers in {ch}",
        "Narrow {ch} targeting to {region}",
        "Add {segment} as a {ch} audience",
    ),
    "contractor": (
        "Hire {agency} for {ch}",
        "End the contract with {agency}",
        "Renew the {agency} retainer for {period}",
    ),
    "kpi": (
        "Report {ch} on CAC instead of clicks",
        "Add the MQL-to-SQL rate to the {ch} weekly report",
        "Judge {ch} by revenue, not reach",
    ),
    "strategy": (
        "Make {ch} a core channel",
        "Drop {ch} from the core channels",
        "Plan {period} around {ch}",
    ),
    "other": (
        "Weekly {ch} reporting for the leadership team",
        "A shared {ch} calendar with sales",
        "Move {ch} reporting to the new dashboard",
    ),
}
TITLES_RU = {
    "budget": (
        "Увеличить бюджет канала «{ch}» на {pct}% на {period_ru}",
        "Сократить бюджет канала «{ch}» на {pct}%",
        "Заморозить расходы на канал «{ch}» до конца месяца",
    ),
    "channel_mix": ("Перенести {pct}% бюджета в канал «{ch}»", "Запустить канал «{ch}» в регионе: {region_ru}"),
    "creative": ("Обновить креативы в канале «{ch}»", "Перейти на короткие видео в канале «{ch}»"),
    "targeting": ("Исключить текущих клиентов из таргетинга в канале «{ch}»", "Сузить географию канала «{ch}»"),
    "contractor": ("Нанять агентство {agency} на канал «{ch}»", "Расторгнуть договор с {agency}"),
    "positioning": ("Говорить о надёжности, а не о цене, в канале «{ch}»",),
}
RATIONALES = {
    Basis.data: (
        "{ch} brought {share}% of last month's conversions at a CAC of {cac} EUR, below the {target} EUR target.",
        "Over the last {weeks} weeks the {ch} conversion rate was {cr}% against {cr2}% for {other}.",
        "ROMI of {ch} was {romi} last quarter, the best of all channels.",
        "Leads from {ch} close at {close}% in the CRM, twice the average.",
    ),
    Basis.experiment: (
        "The A/B test in {ch} showed a {uplift}% uplift in conversion (p = {p}).",
        "Two-week geo holdout: regions with {ch} grew sales {uplift}% faster.",
        "Variant B won the {ch} split test with {uplift}% more qualified clicks.",
    ),
    Basis.research: (
        "Brand tracker wave {wave}: {ch} is where our audience first hears of us.",
        "{interviews} customer interviews: people leave because of onboarding, not price.",
        "The NPS survey: detractors complain about delivery times, promoters praise support.",
    ),
    Basis.intuition: (
        "It feels like the audience is tired of the current {ch} creatives.",
        "My experience from two previous companies says {ch} works in this market.",
        "Gut feeling: {ch} is underrated and deserves a bigger share.",
        "Customers will like this better; no need to test it.",
    ),
    Basis.emotion: (
        "Competitors are all over {ch}; we cannot be absent.",
        "The team loved the idea at the brainstorm and wants to try it.",
        "The last campaign embarrassed us; we need something bold in {ch}.",
        "We are behind plan and need to do something now.",
    ),
    Basis.authority: (
        "The CEO asked for it at the Monday meeting.",
        "The board wants to see us in {ch}.",
        "The commercial director insisted on it.",
        "The founder liked a competitor's {ch} campaign and asked for the same.",
    ),
}
RATIONALES_RU = {
    Basis.data: (
        "За последние {weeks_ru} конверсия канала «{ch}» — {cr}% против {cr2}% у остальных каналов.",
        "ROMI канала «{ch}» в прошлом квартале — {romi}, лучший среди всех каналов.",
    ),
    Basis.experiment: ("A/B-тест в канале «{ch}» показал рост конверсии на {uplift}% (p = {p}).",),
    Basis.research: ("Исследование бренда (волна {wave}): аудитория узнаёт о нас через канал «{ch}».",),
    Basis.intuition: (
        "По ощущениям, аудитория устала от текущих креативов.",
        "Опыт прошлых проектов говорит, что канал «{ch}» сработает.",
    ),
    Basis.emotion: ("Конкуренты уже там, нам нельзя отставать.", "Мы отстаём от плана, надо срочно что-то делать."),
    Basis.authority: (
        "Генеральный директор попросил на планёрке в понедельник.",
        "Так решил собственник после встречи с партнёрами.",
    ),
}
AGENCIES = ("Mediaplus", "Red Fox Digital", "Pixel Forge", "Северный ветер", "Brightline PR", "Adwise")
SEGMENTS = ("young families", "small businesses", "returning customers", "students", "high-value customers")
REGIONS = (
    ("Moscow and St Petersburg", "Москва и Санкт-Петербург"),
    ("Berlin", "Берлин"),
    ("the DACH region", "DACH"),
    ("Kazakhstan", "Казахстан"),
    ("the Baltics", "Прибалтика"),
)
CAMPAIGNS = {
    1: "New Year",
    2: "Valentine's Day",
    3: "spring sale",
    4: "spring sale",
    5: "summer launch",
    6: "summer launch",
    7: "summer sale",
    8: "back to school",
    9: "back to school",
    10: "Black Friday",
    11: "Black Friday",
    12: "New Year",
}
REVERSAL_REASONS = (
    "The CEO changed his mind after the quarterly review.",
    "Cancelled: the product launch moved to next quarter.",
    "The contractor missed the first two deadlines.",
    "Finance froze the budget.",
    "The first two weeks were far below plan; stopped early.",
    "Legal did not approve the claims.",
)


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reversal:
    decision: int  # index into DemoPlan.decisions
    reason: str
    by: str
    superseded_by: int | None = None  # index of the decision that replaces it


@dataclass(slots=True)
class DemoPlan:
    """Everything the demo records, in the order it is recorded. Decisions are named by index."""

    seed: int
    start: datetime  # the first moment of the year covered
    end: datetime  # midnight UTC of the day the plan was made for: nothing lies at or after it
    people: list[tuple[str, PersonUpsert]]
    sources: list[tuple[str, DataSourceUpsert]]
    strategies: list[StrategyCreate]
    versions: list[tuple[str, StrategyVersionCreate]]  # in order of effective_from
    kpis: list[tuple[str, KpiPut]]  # the first of a key creates the KPI, the others revise it
    decisions: list[DecisionCreate]  # in order of decided_at
    corrections: list[tuple[int, DecisionUpdate]]
    outcomes: list[tuple[int, OutcomeCreate]]  # in order of reviewed_at
    reversals: list[Reversal]
    contractors: list[tuple[str, ContractorUpsert]] = field(default_factory=list)


@dataclass(slots=True)
class _Draft:
    """A decision being planned: its body, and what the later steps need to know about it."""

    body: dict[str, Any]
    member: Member
    day: int
    russian: bool

    @property
    def decided_at(self) -> datetime:
        return self.body["decided_at"]  # type: ignore[no-any-return]

    @property
    def is_data(self) -> bool:
        return Basis(self.body["basis"]) in DATA_BASES and bool(self.body["evidence"])

    @property
    def review_by(self) -> datetime | None:
        outcome = self.body.get("expected_outcome")
        return outcome.get("review_by") if outcome else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def build_plan(seed: int = DEFAULT_SEED, today: date | None = None) -> DemoPlan:
    """The demo data set for the 12 months before ``today`` (UTC), drawn from ``seed``."""
    rng = random.Random(seed)
    end = _midnight(today or utcnow().date())
    start = end - timedelta(days=DAYS)
    plan = DemoPlan(
        seed=seed,
        start=start,
        end=end,
        people=[
            (
                m.handle,
                PersonUpsert(name=m.name, email=f"{m.handle}@example.com", team=m.team, active=m.left_on_day is None),
            )
            for m in MEMBERS
        ],
        sources=[
            (key, DataSourceUpsert.model_validate({"name": name, "kind": kind, "url": url}))
            for key, name, kind, url in SOURCES
        ],
        strategies=[
            StrategyCreate(key=key, title=title, description=text) for key, (title, text, _) in STRATEGIES.items()
        ],
        versions=_versions(rng, start),
        kpis=_kpis(),
        decisions=[],
        corrections=[],
        outcomes=[],
        reversals=[],
    )
    first_version: dict[str, datetime] = {}
    for key, version in plan.versions:
        first_version.setdefault(key, version.effective_from)
    drafts = [_decision(rng, start, day, member, first_version) for day, member in _calendar(rng, start)]
    drafts.sort(key=lambda d: d.decided_at)
    whole = random.Random(seed * 31 + 21)  # its own draws: the rest of the plan is the same with or without it
    _whole_system(whole, plan, drafts)
    plan.decisions = [DecisionCreate.model_validate(d.body) for d in drafts]
    plan.corrections = _corrections(rng, drafts)  # from here on, drafts hold the corrected state
    plan.outcomes = _causes(whole, drafts, _outcomes(rng, drafts, start, end))
    plan.reversals = _reversals(rng, drafts)
    return plan


def _versions(rng: random.Random, start: datetime) -> list[tuple[str, StrategyVersionCreate]]:
    out = []
    for key, (_, _, versions) in STRATEGIES.items():
        for day, summary, reason, by in versions:
            jitter = rng.randint(-3, 3) if day else 0
            at = start + timedelta(days=max(day + jitter, 0), hours=rng.choice((0, 9, 10, 14)))
            body = f"{summary} Agreed at the {at:%B} planning meeting."
            out.append(
                (
                    key,
                    StrategyVersionCreate(
                        summary=summary, body=body, effective_from=at, change_reason=reason, changed_by=by
                    ),
                )
            )
    out.sort(key=lambda item: item[1].effective_from)
    return out


def _kpis() -> list[tuple[str, KpiPut]]:
    state = {
        key: {"name": name, "unit": unit, "kind": kind, "target": target, "direction": direction, "owner": owner}
        for key, name, unit, kind, target, direction, owner in KPIS
    }
    out = [(key, KpiPut(**values, change_reason="Set in the annual marketing plan.")) for key, values in state.items()]
    for key, changes, reason in KPI_REVISIONS:
        state[key] = {**state[key], **changes}
        out.append((key, KpiPut(**state[key], change_reason=reason)))
    return out


def _pick(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _calendar(rng: random.Random, start: datetime) -> list[tuple[int, Member]]:
    """(day, owner) of every decision: more in busy months and on weekdays, none after leaving."""
    weights = []
    for day in range(DAYS):
        when = start + timedelta(days=day)
        weights.append(MONTH_WEIGHT[when.month] * WEEKDAY_WEIGHT[when.weekday()])
    days = sorted(rng.choices(range(DAYS), weights=weights, k=rng.randint(460, 560)))
    out = []
    for day in days:
        present = [m for m in MEMBERS if m.active_on(day)]
        out.append((day, rng.choices(present, weights=[m.activity for m in present])[0]))
    return out


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decision(
    rng: random.Random, start: datetime, day: int, member: Member, first_version: dict[str, datetime]
) -> _Draft:
    decided_at = start + timedelta(days=day, hours=rng.randint(7, 18), minutes=rng.randrange(0, 60, 5))
    team = member.team
    channel: str = _pick(rng, TEAM_CHANNELS[team])
    category: str = _pick(rng, TEAM_CATEGORIES[team])
    basis: Basis = _pick(rng, member.bases)
    russian = member.russian and rng.random() < 0.35
    other = rng.choice([c for c in CHANNELS if c != channel])
    region, region_ru = rng.choice(REGIONS)
    weeks = rng.choice((4, 6, 8, 12))
    context = {
        "ch": CHANNELS[channel][1 if russian else 0],
        "other": CHANNELS[other][0],
        "pct": rng.choice((10, 15, 20, 25, 30, 40)),
        "period": rng.choice(("the next quarter", "the next two months", "the rest of the year")),
        "period_ru": rng.choice(("следующий квартал", "два месяца")),
        "campaign": CAMPAIGNS[decided_at.month],
        "region": region,
        "region_ru": region_ru,
        "segment": rng.choice(SEGMENTS),
        "agency": rng.choice(AGENCIES),
        "share": rng.randint(12, 45),
        "cac": rng.randint(28, 48),
        "target": 50,
        "weeks": weeks,
        "weeks_ru": f"{weeks} недели" if weeks < 5 else f"{weeks} недель",
        "cr": round(rng.uniform(2.0, 4.5), 1),
        "cr2": round(rng.uniform(0.5, 1.9), 1),
        "romi": round(rng.uniform(1.8, 3.4), 1),
        "close": rng.randint(18, 32),
        "uplift": rng.randint(4, 28),
        "p": rng.choice(("0.01", "0.02", "0.03", "0.04")),
        "wave": rng.randint(3, 12),
        "interviews": rng.choice((12, 15, 20, 24)),
    }
    titles = TITLES_RU.get(category) if russian else None
    title = _capitalised(rng.choice(titles or TITLES[category]).format(**context))
    rationale = _capitalised(rng.choice((RATIONALES_RU if russian else RATIONALES)[basis]).format(**context))
    cited = basis in DATA_BASES and rng.random() < member.cites
    body: dict[str, Any] = {
        "title": title,
        "rationale": rationale,
        "basis": basis.value,
        "evidence": _evidence(rng, basis, channel, category, decided_at) if cited else [],
        "owner": member.handle,
        "participants": _participants(rng, member, day),
        "channel": channel,
        "category": category,
        "decided_at": decided_at,
        "tags": _tags(rng, basis, category, decided_at),
    }
    if rng.random() < 0.2:
        body["description"] = f"Discussed at the {team} weekly on {decided_at:%d %B %Y}."
    body.update(_budget(rng, channel, category))
    strategy = TEAM_STRATEGY[team]
    if decided_at >= first_version[strategy] and rng.random() < member.follows_strategy:
        body["strategy"] = strategy
    kpi = rng.choice(CHANNEL_KPIS[channel])
    if rng.random() < 0.78:
        target = _kpi_target(rng, kpi)
        review_days = rng.choice((30, 45, 60, 90))
        body["expected_outcome"] = {
            "description": _expectation(kpi, target, CHANNELS[channel][0]),
            "kpi": kpi,
            "target_value": target,
            "review_by": _midnight(decided_at.date() + timedelta(days=review_days)) if rng.random() < 0.9 else None,
        }
        body["kpis"] = [kpi]
    elif rng.random() < 0.4:
        body["kpis"] = [kpi]
    if body.get("kpis") and rng.random() < 0.25:
        extra = rng.choice(KPIS)[0]
        if extra != kpi:
            body["kpis"].append(extra)
    return _Draft(body=body, member=member, day=day, russian=russian)


def _participants(rng: random.Random, member: Member, day: int) -> list[str]:
    count = rng.choice((0, 0, 0, 1, 1, 2))
    teammates = [m.handle for m in MEMBERS if m.team == member.team and m is not member and m.active_on(day)]
    others = [m.handle for m in MEMBERS if m.team != member.team and m.active_on(day)]
    chosen: list[str] = []
    while len(chosen) < count:
        pool = teammates if teammates and rng.random() < 0.7 else others
        handle = rng.choice(pool)
        if handle not in chosen:
            chosen.append(handle)
    return chosen


def _tags(rng: random.Random, basis: Basis, category: str, decided_at: datetime) -> list[str]:
    tags = []
    if category in {"budget", "channel_mix", "creative", "pricing"} and rng.random() < 0.4:
        tags.append(CAMPAIGNS[decided_at.month].lower().replace("'", "").replace(" ", "-"))
    if rng.random() < 0.3:
        tags.append(f"q{(decided_at.month - 1) // 3 + 1}-plan")
    if basis is Basis.experiment:
        tags.append("ab-test")
    if basis is Basis.authority and rng.random() < 0.5:
        tags.append("ceo-request")
    return tags


BUDGET_CHANCE = {
    "budget": 0.95,
    "channel_mix": 0.8,
    "contractor": 0.9,
    "creative": 0.5,
    "pricing": 0.3,
    "targeting": 0.4,
    "positioning": 0.3,
    "kpi": 0.05,
    "strategy": 0.1,
    "other": 0.1,
}


def _budget(rng: random.Random, channel: str, category: str) -> dict[str, Any]:
    """Mostly EUR; Russian ad platforms are paid in RUB, some contractors in USD."""
    if rng.random() >= BUDGET_CHANCE[category]:
        return {}
    eur = 800 * (75 ** rng.random())  # 800 to 60,000 EUR, spread evenly on a log scale
    if channel in {"paid_search", "social", "display"} and rng.random() < 0.2:
        return {"budget_amount": _whole(eur * 95, -3), "budget_currency": "RUB"}
    if (category == "contractor" and rng.random() < 0.35) or rng.random() < 0.03:
        return {"budget_amount": _whole(eur * 1.08, -2), "budget_currency": "USD"}
    return {"budget_amount": _whole(eur, -2), "budget_currency": "EUR"}


def _whole(amount: float, places: int) -> int:
    """A budget as people plan one: rounded to whole hundreds or thousands, an exact integer (no float)."""
    return int(round(amount, places))


def _kpi_target(rng: random.Random, kpi: str) -> float:
    return float(
        {
            "cac": rng.randint(35, 55),
            "marketing-revenue": rng.randrange(20000, 150000, 5000),
            "leads": rng.randrange(50, 400, 10),
            "brand-awareness": rng.randint(28, 40),
            "social-reach": rng.randrange(100000, 900000, 50000),
            "content-output": rng.randint(8, 30),
        }[kpi]
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _expectation(kpi: str, target: float, channel: str) -> str:
    text = {
        "cac": f"CAC in {channel} drops to {_number(target)} EUR or less",
        "marketing-revenue": f"{channel} brings {_number(target)} EUR of revenue a month",
        "leads": f"{_number(target)} marketing-qualified leads a month from {channel}",
        "brand-awareness": f"Aided awareness reaches {_number(target)}%",
        "social-reach": f"Monthly reach of {_number(target)} people",
        "content-output": f"{_number(target)} pieces published a month",
    }[kpi]
    return _capitalised(text)


DATA_SOURCES_FOR = {
    "paid_search": ("google-ads", "yandex-direct", "ga4"),
    "social": ("ga4", "crm"),
    "email": ("crm", "ga4"),
    "seo": ("ga4",),
    "display": ("ga4", "google-ads"),
    "content": ("ga4",),
    "events": ("crm",),
    "affiliates": ("crm", "finance-bi"),
}


def _evidence(rng: random.Random, basis: Basis, channel: str, category: str, when: datetime) -> list[dict[str, Any]]:
    if basis is Basis.experiment:
        candidates: tuple[str, ...] = ("ab-platform", "ab-platform", "ga4")
    elif basis is Basis.research:
        candidates = ("brand-tracker", "nps-survey")
    else:
        candidates = DATA_SOURCES_FOR[channel] + (("finance-bi",) if category in {"budget", "pricing"} else ())
    count = rng.choice((1, 1, 1, 2, 2, 3))
    chosen = list(dict.fromkeys(rng.choice(candidates) for _ in range(count)))
    return [_evidence_item(rng, source, when) for source in chosen]


def _evidence_item(rng: random.Random, source: str, when: datetime) -> dict[str, Any]:
    month = (when - timedelta(days=20)).strftime("%Y-%m")
    number = rng.randint(1000, 99999)
    item: dict[str, Any]
    if source == "ga4":
        item = {
            "reference": f"https://analytics.google.com/analytics/web/#/p318276541/reports/explorer?r={number}",
            "metric": "conversion_rate",
            "value": round(rng.uniform(0.008, 0.045), 4),
        }
    elif source == "google-ads":
        item = {
            "reference": f"https://ads.google.com/aw/reports/{number}",
            "metric": "cpa_eur",
            "value": round(rng.uniform(25, 90), 2),
        }
    elif source == "yandex-direct":
        item = {
            "reference": f"https://direct.yandex.ru/dna/reports/{number}",
            "metric": "cpc_rub",
            "value": round(rng.uniform(18, 85), 2),
        }
    elif source == "crm":
        item = {
            "reference": f"https://crm.example.com/reports/{number}",
            "metric": "lead_to_sale",
            "value": round(rng.uniform(0.05, 0.3), 3),
        }
    elif source == "ab-platform":
        item = {
            "reference": f"https://growthbook.example.com/experiment/exp_{number:x}",
            "metric": "uplift",
            "value": round(rng.uniform(0.02, 0.25), 3),
            "note": f"50/50 split, {rng.choice((2, 3, 4))} weeks, p < 0.05",
        }
    elif source == "brand-tracker":
        item = {
            "reference": f"Brand tracker wave {rng.randint(3, 12)}, report {month}",
            "metric": "aided_awareness",
            "value": round(rng.uniform(0.18, 0.42), 2),
        }
    elif source == "nps-survey":
        item = {
            "reference": f"NPS survey {month}, {rng.randint(300, 2500)} responses",
            "metric": "nps",
            "value": float(rng.randint(12, 55)),
        }
    else:
        item = {
            "reference": f"https://bi.example.com/finance/marketing-pnl?month={month}",
            "metric": "romi",
            "value": round(rng.uniform(0.8, 3.2), 2),
        }
    return {"source": source, **item}


def _editor(rng: random.Random, member: Member) -> str:
    """Who corrects or reverses a decision today: its owner, or the team lead (always, once the owner left)."""
    if member.left_on_day is not None or rng.random() < 0.3:
        return LEADS[member.team]
    return member.handle


def _corrections(rng: random.Random, drafts: list[_Draft]) -> list[tuple[int, DecisionUpdate]]:
    """PATCH-style corrections with reasons; ``drafts`` are updated to their corrected state."""
    planned: list[tuple[int, dict[str, Any]]] = []
    unsupported = [i for i, d in enumerate(drafts) if Basis(d.body["basis"]) in DATA_BASES and not d.body["evidence"]]
    for i in rng.sample(unsupported, min(10, len(unsupported))):
        d = drafts[i]
        evidence = _evidence(rng, Basis(d.body["basis"]), d.body["channel"], d.body["category"], d.decided_at)
        reason = rng.choice(
            ("Attached the report the decision was based on.", "Evidence added after the review meeting asked for it.")
        )
        planned.append((i, {"evidence": evidence, "edit_reason": reason}))
    with_budget = [i for i, d in enumerate(drafts) if d.body.get("budget_amount")]
    for i in rng.sample(with_budget, min(10, len(with_budget))):
        amount = drafts[i].body["budget_amount"]
        step = -3 if drafts[i].body["budget_currency"] == "RUB" else -2
        reason = rng.choice(
            ("The amount was entered without the agency fee.", "Typo in the amount.", "Finance approved less.")
        )
        planned.append(
            (i, {"budget_amount": max(_whole(amount * rng.uniform(0.7, 1.3), step), 100), "edit_reason": reason})
        )
    with_review = [i for i, d in enumerate(drafts) if d.review_by is not None]
    for i in rng.sample(with_review, min(6, len(with_review))):
        expected = dict(drafts[i].body["expected_outcome"])
        expected["review_by"] = expected["review_by"] + timedelta(days=30)
        planned.append(
            (i, {"expected_outcome": expected, "edit_reason": "The launch slipped by a month; review moved."})
        )
    alone = [i for i, d in enumerate(drafts) if not d.body["participants"]]
    for i in rng.sample(alone, min(5, len(alone))):
        d = drafts[i]
        teammates = [m.handle for m in MEMBERS if m.team == d.member.team and m is not d.member and m.active_on(d.day)]
        if teammates:
            planned.append(
                (i, {"participants": teammates[:2], "edit_reason": "Added the people who were in the meeting."})
            )
    for i in rng.sample(range(len(drafts)), 4):
        d = drafts[i]
        channels = [c for c in TEAM_CHANNELS[d.member.team] if c != d.body["channel"]]
        planned.append((i, {"channel": rng.choice(channels), "edit_reason": "Filed under the wrong channel."}))
    english_data = [i for i, d in enumerate(drafts) if Basis(d.body["basis"]) in DATA_BASES and not d.russian]
    for i in rng.sample(english_data, min(5, len(english_data))):
        d = drafts[i]
        period = (d.decided_at - timedelta(days=30)).strftime("%B %Y")
        rationale = f"{d.body['rationale']} Figures for {period}."
        planned.append((i, {"rationale": rationale, "edit_reason": "Added the period the figures cover."}))
    planned.sort(key=lambda item: item[0])
    out = []
    for i, changes in planned:
        d = drafts[i]
        d.body = {**d.body, **{k: v for k, v in changes.items() if k != "edit_reason"}}
        out.append((i, DecisionUpdate.model_validate({**changes, "edited_by": _editor(rng, d.member)})))
    return out


DATA_RESULTS = {
    OutcomeResult.success: 0.58,
    OutcomeResult.partial: 0.2,
    OutcomeResult.failure: 0.12,
    OutcomeResult.inconclusive: 0.1,
}
EMOTION_RESULTS = {
    OutcomeResult.success: 0.24,
    OutcomeResult.partial: 0.26,
    OutcomeResult.failure: 0.4,
    OutcomeResult.inconclusive: 0.1,
}
INCONCLUSIVE_NOTES = (
    "Tracking broke in the middle of the period; no clean read.",
    "Too little traffic to tell.",
    "Overlapped with another campaign; the effects cannot be separated.",
)
RESULT_WORDS = {OutcomeResult.success: "Met", OutcomeResult.partial: "Partly met", OutcomeResult.failure: "Missed"}
RESULT_RATIOS = {
    OutcomeResult.success: (1.0, 1.25),
    OutcomeResult.partial: (0.75, 0.97),
    OutcomeResult.failure: (0.35, 0.75),
}


def _outcomes(
    rng: random.Random, drafts: list[_Draft], start: datetime, end: datetime
) -> list[tuple[int, OutcomeCreate]]:
    """Reviews of due decisions, as often as each owner bothers; data decisions succeed more often."""
    out = []
    for i, d in enumerate(drafts):
        due = d.review_by
        if due is None or due > end or rng.random() >= d.member.reviews:
            continue
        reviewed_at = due + timedelta(days=rng.randint(-4, 21), hours=rng.randint(8, 18))
        reviewed_at = min(max(reviewed_at, d.decided_at + timedelta(days=1)), end - timedelta(hours=rng.randint(1, 12)))
        result: OutcomeResult = _pick(rng, DATA_RESULTS if d.is_data else EMOTION_RESULTS)
        expected = d.body["expected_outcome"]
        actual = None
        if result is OutcomeResult.inconclusive:
            notes = rng.choice(INCONCLUSIVE_NOTES)
        else:
            target = expected["target_value"]
            ratio = rng.uniform(*RESULT_RATIOS[result])
            decrease = KPI_BY_KEY[expected["kpi"]][5] == "decrease"
            actual = round(target / ratio if decrease else target * ratio, 1)
            notes = f"{RESULT_WORDS[result]}: {_number(actual)} against a target of {_number(target)}."
        owner_present = d.member.active_on((reviewed_at - start).days)
        reviewer = d.member.handle if owner_present and rng.random() < 0.75 else LEADS[d.member.team]
        out.append(
            (
                i,
                OutcomeCreate(
                    result=result, notes=notes, actual_value=actual, reviewed_by=reviewer, reviewed_at=reviewed_at
                ),
            )
        )
    out.sort(key=lambda item: (item[1].reviewed_at, item[0]))
    return out


def _reversals(rng: random.Random, drafts: list[_Draft]) -> list[Reversal]:
    """A few supersessions (a later decision of the same team replaces an earlier one) and reversals
    (emotional decisions are reversed more often)."""
    out: list[Reversal] = []
    taken: set[int] = set()
    order = list(range(len(drafts)))
    rng.shuffle(order)
    for i in order:
        if len(out) == 8:
            break
        d = drafts[i]
        later = [
            j
            for j in range(i + 1, len(drafts))
            if j not in taken
            and drafts[j].member.team == d.member.team
            and drafts[j].body["channel"] == d.body["channel"]
            and drafts[j].body["category"] == d.body["category"]
            and 7 <= drafts[j].day - d.day <= 120
        ]
        if i in taken or not later:
            continue
        j = later[0]
        taken |= {i, j}
        out.append(Reversal(i, f"Replaced by a revised plan: {drafts[j].body['title']}", drafts[j].member.handle, j))
    pool = [i for i in range(len(drafts)) if i not in taken]
    weights = [1.0 if drafts[i].is_data else 3.0 for i in pool]
    reversed_: set[int] = set()
    while len(reversed_) < 14:
        reversed_.add(rng.choices(pool, weights=weights)[0])
    for i in sorted(reversed_):
        out.append(Reversal(i, rng.choice(REVERSAL_REASONS), _editor(rng, drafts[i].member)))
    out.sort(key=lambda r: r.decision)
    return out


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# The whole system (part 2): the business owner who directs a share of the decisions, two agencies (Red Fox,
# blamed for most failures of the decisions made on emotions it executed; Pixel Forge, blamed fairly), and data
# claims whose rationale speaks of feelings, certainty or hearsay, in English and Russian
# ---------------------------------------------------------------------------------------------

OWNER = ("viktor.belov", PersonUpsert(name="Виктор Белов", email="viktor.belov@example.com", team="management",
                                     role=PersonRole.owner))  # fmt: skip
WHOLE_CONTRACTORS = {
    "red-fox": ContractorUpsert(name="Red Fox Digital", kind=ContractorKind.agency),
    "pixel-forge": ContractorUpsert(name="Pixel Forge", kind=ContractorKind.agency),
}
# The channels agencies execute, and the chance a decision there goes to each agency (the rest stays in-house).
AGENCY_WORK = {"paid_search": 0.6, "social": 0.6, "display": 0.8, "events": 0.5, "affiliates": 0.4, "content": 0.3}
RED_FOX_SHARE = 0.55  # of the agency work: Red Fox, the rest Pixel Forge
# How often the owner's call is behind a decision, by declared basis.
DIRECTED = {Basis.authority: 0.7, Basis.emotion: 0.2, Basis.intuition: 0.1}
EMOTIONAL_ADDITIONS = (
    "Obviously this will work.",
    "Everyone knows {ch} converts.",
    "I feel the numbers will follow.",
    "I'm sure it pays back within the quarter.",
)
EMOTIONAL_ADDITIONS_RU = ("Очевидно, что это сработает.", "Все так делают.", "Мне кажется, цифры подтвердят.")
# What a review of a partial success or a failure blames: (agency, decided on emotions) → cause weights.
CAUSES = {
    ("red-fox", False): {OutcomeCause.execution: 5, OutcomeCause.decision: 3, OutcomeCause.external: 2},
    ("red-fox", True): {OutcomeCause.execution: 17, OutcomeCause.decision: 1, OutcomeCause.external: 2},
    ("pixel-forge", False): {OutcomeCause.execution: 2, OutcomeCause.decision: 4, OutcomeCause.external: 4},
    ("pixel-forge", True): {OutcomeCause.execution: 3, OutcomeCause.decision: 6, OutcomeCause.external: 1},
    (None, False): {OutcomeCause.decision: 4, OutcomeCause.external: 4, OutcomeCause.unknown: 2},
    (None, True): {OutcomeCause.decision: 6, OutcomeCause.external: 2, OutcomeCause.unknown: 2},
}


def _whole_system(rng: random.Random, plan: DemoPlan, drafts: list[_Draft]) -> None:
    """The owner and the leads' roles, the agencies, and on the drafts: who executes, who directed, and a few
    data claims in emotional language."""
    leads = set(LEADS.values())
    plan.people = [
        (handle, person.model_copy(update={"role": PersonRole.lead}) if handle in leads else person)
        for handle, person in plan.people
    ] + [OWNER]
    plan.contractors = list(WHOLE_CONTRACTORS.items())
    for d in drafts:
        if rng.random() < AGENCY_WORK.get(d.body["channel"], 0.0):
            d.body["contractor"] = "red-fox" if rng.random() < RED_FOX_SHARE else "pixel-forge"
        if rng.random() < DIRECTED.get(Basis(d.body["basis"]), 0.0):
            d.body["directed_by"] = OWNER[0]
        if Basis(d.body["basis"]) in DATA_BASES and rng.random() < 0.12:
            addition = rng.choice(EMOTIONAL_ADDITIONS_RU if d.russian else EMOTIONAL_ADDITIONS)
            channel = CHANNELS[d.body["channel"]][0]
            d.body["rationale"] = f"{d.body['rationale']} {addition.format(ch=channel)}"


def _causes(
    rng: random.Random, drafts: list[_Draft], outcomes: list[tuple[int, OutcomeCreate]]
) -> list[tuple[int, OutcomeCreate]]:
    """What the reviews of partial successes and failures blame."""
    out = []
    for index, review in outcomes:
        if review.result in (OutcomeResult.partial, OutcomeResult.failure):
            d = drafts[index]
            cause = _pick(rng, CAUSES[(d.body.get("contractor"), not d.is_data)])
            review = review.model_copy(update={"cause": cause})
        out.append((index, review))
    return out


@dataclass(slots=True)
class DemoSummary:
    """What one run recorded."""

    people: int = 0
    teams: int = 0
    sources: int = 0
    strategies: int = 0
    versions: int = 0
    kpis: int = 0
    kpi_revisions: int = 0
    decisions: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    unsupported: int = 0
    first: datetime | None = None
    last: datetime | None = None
    corrections: int = 0
    reviews: int = 0
    reversed: int = 0
    superseded: int = 0
    kept: list[str] = field(default_factory=list)  # registry records that already existed (with force)

    def lines(self) -> list[str]:
        span = f" from {self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}" if self.first and self.last else ""
        out = [
            f"  {self.people} people in {self.teams} teams, {self.sources} data sources",
            f"  {self.strategies} strategies with {self.versions} versions, {self.kpis} KPIs with "
            f"{self.kpi_revisions} revisions",
            f"  {self.decisions} decisions{span}: {self.classes[BasisClass.data.value]} on data, "
            f"{self.classes[BasisClass.emotion.value]} on emotions ({self.unsupported} of them data claims "
            "without evidence)",
            f"  {self.corrections} corrections, {self.reviews} outcome reviews, {self.reversed} reversals, "
            f"{self.superseded} supersessions",
        ]
        if self.kept:
            out.append(f"  kept as they were: {', '.join(self.kept)}")
        return out


def _batch_loc(offset: int) -> Callable[[int], list[str | int]]:
    """Where a refusal points: the decision's index in the whole plan."""
    return lambda index: ["decisions", offset + index]


async def load(database: Database, plan: DemoPlan, *, force: bool = False) -> DemoSummary:
    """Record ``plan`` through the services, in one transaction. Refuses (:class:`DemoRefused`) when
    the database already holds decisions, unless ``force``: then the decisions are added to them,
    and strategies and KPIs that already exist are kept as they are."""
    summary = DemoSummary()
    async with transaction(database, writes=True) as session:
        held, _ = await decisions.list_decisions(session, DecisionFilters(), limit=1, cursor=None)
        if held and not force:
            raise DemoRefused(
                "The database already holds decisions: the demo loads into an empty database. "
                "Run `decision-log demo --force` to add the demo data to them anyway."
            )
        for handle, person in plan.people:
            await people.upsert_person(session, handle, person)
        summary.people = len(plan.people)
        summary.teams = len({person.team for _, person in plan.people})
        for key, source in plan.sources:
            await sources.upsert_source(session, key, source)
        summary.sources = len(plan.sources)
        for key, contractor in plan.contractors:
            await contractors.upsert_contractor(session, key, contractor)

        kept: set[str] = set()
        for strategy in plan.strategies:
            try:
                if (await strategies.get_strategy(session, strategy.key)).versions:
                    kept.add(strategy.key)
            except StrategyNotFound:
                await strategies.create_strategy(session, strategy)
                summary.strategies += 1
        for key, version in plan.versions:
            if key not in kept:
                await strategies.add_version(session, key, version)
                summary.versions += 1
        for key in dict.fromkeys(key for key, _ in plan.kpis):
            try:
                await kpis.get_kpi(session, key)
                kept.add(key)
            except KpiNotFound:
                pass
        for key, put in plan.kpis:
            if key in kept:
                continue
            _, created = await kpis.put_kpi(session, key, put, CALLER, None)
            if created:
                summary.kpis += 1
            else:
                summary.kpi_revisions += 1
        summary.kept = sorted(kept)

        created_decisions: list[DecisionRead] = []
        for offset in range(0, len(plan.decisions), BATCH):
            batch = plan.decisions[offset : offset + BATCH]
            recorded = await decisions.create_decisions(session, batch, CALLER, loc=_batch_loc(offset))
            created_decisions += [DecisionRead.model_validate(decision) for decision in recorded]
        current = dict(enumerate(created_decisions))
        for index, update in plan.corrections:
            current[index] = await decisions.update_decision(session, current[index].id, update, CALLER, None)
        for index, outcome in plan.outcomes:
            current[index] = await decisions.record_outcome(session, current[index].id, outcome, CALLER, None)
        for reversal in plan.reversals:
            request = ReverseRequest(
                reason=reversal.reason,
                by=reversal.by,
                superseded_by=None if reversal.superseded_by is None else current[reversal.superseded_by].id,
            )
            current[reversal.decision] = await decisions.reverse_decision(
                session, current[reversal.decision].id, request, CALLER, None
            )

    summary.decisions = len(current)
    summary.classes = Counter(d.basis_class.value for d in current.values())
    summary.unsupported = sum(1 for d in current.values() if d.classification_reason == "data_claim_without_evidence")
    summary.first = min((d.decided_at for d in current.values()), default=None)
    summary.last = max((d.decided_at for d in current.values()), default=None)
    summary.corrections = len(plan.corrections)
    summary.reviews = len(plan.outcomes)
    summary.superseded = sum(1 for r in plan.reversals if r.superseded_by is not None)
    summary.reversed = len(plan.reversals) - summary.superseded
    return summary


async def run_demo(
    database: Database, *, seed: int = DEFAULT_SEED, force: bool = False, today: date | None = None
) -> DemoSummary:
    """Build the plan for the year before ``today`` (default: today, UTC) and load it."""
    return await load(database, build_plan(seed, today), force=force)
