# Russian text: Cyrillic letters that look like Latin ones are meant.
# ruff: noqa: RUF001
"""The demo's tables: who the team is, what it works with and the words it writes, as plain data.

One table per concept; :mod:`app.demo.plan` draws from them and nothing here draws anything. To
add to the demo, add rows: a person to ``MEMBERS``, a data source to ``SOURCES`` (with the shape of
its evidence in ``EVIDENCE``), a KPI to ``KPIS`` (with ``KPI_TARGETS`` and ``KPI_EXPECTATIONS``), a
channel to ``CHANNELS`` (with ``CHANNEL_KPIS`` and ``DATA_SOURCES_FOR``), a title or rationale to
its category or basis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.decisions.classification import Basis
from app.decisions.schemas import OutcomeResult

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
# Names of the people a larger organisation adds to MEMBERS (bench data sets): each joins the team of the
# member whose habits they take (the member at the same place in MEMBERS, round and round).
FIRST_NAMES = (
    "maria", "alexey", "sophie", "pavel", "nina", "george", "elena", "victor", "chloe", "roman", "irina",
    "daniel", "tatiana", "lucas", "marina", "oliver", "yulia", "hugo", "vera", "mark", "alina", "paul", "kira",
    "adam", "zoe", "leon", "daria", "felix", "polina", "max", "sara", "igor", "eva", "nikita", "lena", "boris",
    "clara", "artem", "mia", "denis", "ruth", "ada",
)  # fmt: skip
LAST_NAMES = (
    "ivanova", "orlov", "martin", "popov", "garcia", "morozova", "lebedev", "hughes", "novikova", "fedorov",
    "baker", "pavlova", "kozlov", "wright", "egorova", "stepanov", "moore", "nikitina", "zaitsev", "hall",
    "belova", "gusev", "young", "sorokina", "vinogradov", "lewis", "frolova", "bogdanov", "allen", "kiseleva",
    "makarov", "king", "titova", "antonov", "scott", "zakharova", "komarov", "green", "mironova", "nikolaev",
    "adams", "tarasova",
)  # fmt: skip
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


@dataclass(frozen=True, slots=True)
class EvidenceShape:
    """How a data source's evidence reads: ``reference`` and ``note`` are templates whose fields are
    ``month`` (the month before the decision) or drawn from ``EVIDENCE_FIELDS``; the value is drawn
    between ``low`` and ``high``, rounded to ``places`` (a whole number when ``places`` is None)."""

    reference: str
    metric: str
    low: float
    high: float
    places: int | None
    note: str | None = None


# Numbers drawn for the evidence templates: (lowest, highest), both included.
EVIDENCE_FIELDS = {"number": (1000, 99999), "wave": (3, 12), "responses": (300, 2500), "weeks": (2, 4)}
EVIDENCE = {
    "ga4": EvidenceShape(
        "https://analytics.google.com/analytics/web/#/p318276541/reports/explorer?r={number}",
        "conversion_rate",
        0.008,
        0.045,
        4,
    ),
    "google-ads": EvidenceShape("https://ads.google.com/aw/reports/{number}", "cpa_eur", 25, 90, 2),
    "yandex-direct": EvidenceShape("https://direct.yandex.ru/dna/reports/{number}", "cpc_rub", 18, 85, 2),
    "crm": EvidenceShape("https://crm.example.com/reports/{number}", "lead_to_sale", 0.05, 0.3, 3),
    "ab-platform": EvidenceShape(
        "https://growthbook.example.com/experiment/exp_{number:x}",
        "uplift",
        0.02,
        0.25,
        3,
        note="50/50 split, {weeks} weeks, p < 0.05",
    ),
    "brand-tracker": EvidenceShape("Brand tracker wave {wave}, report {month}", "aided_awareness", 0.18, 0.42, 2),
    "nps-survey": EvidenceShape("NPS survey {month}, {responses} responses", "nps", 12, 55, None),
    "finance-bi": EvidenceShape("https://bi.example.com/finance/marketing-pnl?month={month}", "romi", 0.8, 3.2, 2),
}
# The sources cited for an experiment and for research; data claims cite their channel's (DATA_SOURCES_FOR).
EXPERIMENT_SOURCES = ("ab-platform", "ab-platform", "ga4")
RESEARCH_SOURCES = ("brand-tracker", "nps-survey")

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
# The sources a data claim about a channel cites.
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
# The chance a decision of each category carries a budget.
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
# What a decision expects of a KPI: the target drawn from a range, and the sentence saying so.
KPI_TARGETS = {
    "cac": range(35, 56),
    "marketing-revenue": range(20000, 150000, 5000),
    "leads": range(50, 400, 10),
    "brand-awareness": range(28, 41),
    "social-reach": range(100000, 900000, 50000),
    "content-output": range(8, 31),
}
KPI_EXPECTATIONS = {
    "cac": "CAC in {channel} drops to {target} EUR or less",
    "marketing-revenue": "{channel} brings {target} EUR of revenue a month",
    "leads": "{target} marketing-qualified leads a month from {channel}",
    "brand-awareness": "Aided awareness reaches {target}%",
    "social-reach": "Monthly reach of {target} people",
    "content-output": "{target} pieces published a month",
}
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
# Outcomes
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# The whole system: the business owner who directs a share of the decisions, two agencies (Red Fox, blamed on
# execution for most failures of the decisions made on emotions it executed; Pixel Forge, blamed fairly), what
# reviews blame, and data claims whose rationale speaks of feelings, certainty or hearsay
# ---------------------------------------------------------------------------------------------

OWNER = ("viktor.belov", "Виктор Белов", "management")  # handle, name, team; role owner, owns no decision
# key, name, kind, share of the agency work
CONTRACTORS = (("red-fox", "Red Fox Digital", "agency", 0.55), ("pixel-forge", "Pixel Forge", "agency", 0.45))
# The channels agencies execute: the chance a decision there goes to an agency (the rest stays in-house).
AGENCY_WORK = {"paid_search": 0.6, "social": 0.6, "display": 0.8, "events": 0.5, "affiliates": 0.4, "content": 0.3}
# How often the owner's call is behind a decision, by declared basis.
DIRECTED = {Basis.authority: 0.7, Basis.emotion: 0.2, Basis.intuition: 0.1}
EMOTIONAL_LANGUAGE_CHANCE = 0.12  # a data claim's rationale that ends in emotional language
EMOTIONAL_ADDITIONS = (
    "Obviously this will work.",
    "Everyone knows {ch} converts.",
    "I feel the numbers will follow.",
    "I'm sure it pays back within the quarter.",
)
EMOTIONAL_ADDITIONS_RU = ("Очевидно, что это сработает.", "Все так делают.", "Мне кажется, цифры подтвердят.")
# What a review of a partial success or a failure blames, by (contractor, decided on emotions): cause → weight.
CAUSES: dict[tuple[str | None, bool], dict[str, float]] = {
    ("red-fox", False): {"execution": 5, "decision": 3, "external": 2},
    ("red-fox", True): {"execution": 17, "decision": 1, "external": 2},
    ("pixel-forge", False): {"execution": 2, "decision": 4, "external": 4},
    ("pixel-forge", True): {"execution": 3, "decision": 6, "external": 1},
    (None, False): {"decision": 4, "external": 4, "unknown": 2},
    (None, True): {"decision": 6, "external": 2, "unknown": 2},
}

# ---------------------------------------------------------------------------------------------
# Decision quality: stated confidence, the data's recommendation, the options not taken
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Forecaster:
    states: float  # the chance a decision states the owner's confidence
    calibrated: bool  # confidence tracks what then happens; otherwise sure of everything (OVERCONFIDENT)


FORECASTERS = {
    "anna.petrova": Forecaster(0.85, True),
    "dmitry.sokolov": Forecaster(0.7, True),
    "james.wilson": Forecaster(0.3, True),
    "olga.smirnova": Forecaster(0.5, True),
    "emily.clark": Forecaster(0.9, False),  # the overconfident one: 85-97 % sure, right far less often
    "ivan.kuznetsov": Forecaster(0.2, True),
    "sergey.volkov": Forecaster(0.8, True),
    "laura.bennett": Forecaster(0.4, True),
}
# A calibrated owner's confidence, by what then happened (a range to draw from); before a review, the middle.
CONFIDENCE_BY_RESULT = {
    OutcomeResult.success: (0.6, 0.95),
    OutcomeResult.partial: (0.4, 0.7),
    OutcomeResult.failure: (0.1, 0.5),
    OutcomeResult.inconclusive: (0.4, 0.8),
}
UNREVIEWED_CONFIDENCE = (0.45, 0.85)
OVERCONFIDENT = (0.85, 0.97)
# Data decisions that cite their data record what it recommended, and follow it.
RECOMMENDED_CHANCE = 0.4
# Emotional decisions that went against a recommendation, by the result that followed: most overrides fail.
OVERRIDE_CHANCE = {
    OutcomeResult.success: 0.2,
    OutcomeResult.partial: 0.3,
    OutcomeResult.failure: 0.7,
    OutcomeResult.inconclusive: 0.3,
}
RECOMMENDATIONS = (
    "Keep the budget in {ch}: it converts at {cr}% against {cr2}%",
    "Scale {ch} only after the A/B test reaches significance",
    "Hold {ch} spend until CAC is back under {target} EUR",
    "Move the money to {other}, where ROMI is {romi}",
)
ALTERNATIVES = (
    ("Keep the current plan", "It misses the quarter's target."),
    ("Run an A/B test first", "Too slow for the season."),
    ("Hire an agency for it", "Over the budget."),
    ("Do nothing this quarter", None),
    ("Spread the budget evenly across channels", "Dilutes the channels that convert."),
)
ALTERNATIVES_CHANCE = 0.45
# The generator's decisions at scale (app.demo.plan.Decisions, the benchmarks' data): how often an owner states a
# confidence, by basis, and the range it is drawn from. Data-based calls are forecast more often (the numbers are at
# hand), gut calls seldom and surer of themselves than the record later shows.
CONFIDENCE_BY_BASIS: dict[Basis, tuple[float, tuple[float, float]]] = {
    Basis.data: (0.6, (0.45, 0.9)),
    Basis.experiment: (0.7, (0.5, 0.95)),
    Basis.research: (0.5, (0.4, 0.85)),
    Basis.intuition: (0.3, (0.6, 0.95)),
    Basis.emotion: (0.25, (0.7, 1.0)),
    Basis.authority: (0.15, (0.5, 0.9)),
}
# ... and how often an expected outcome of the teams of CONTRADICTING pulls the pair's KPI (CONTRADICTED_KPI) their
# way instead: open decisions of the two teams decided within 90 days of each other then contradict.
CONTRADICTING_CHANCE = 0.0005
# The pair of open decisions that pull one KPI both ways: performance raises the average order with bundles while
# brand lowers it with an entry offer. Their KPI is the pair's own, so that nothing else contradicts them.
CONTRADICTED_KPI = ("average-order-value", "Average order value", "EUR", "money", 85.0, "increase", "sergey.volkov")
CONTRADICTING = {
    "performance": {"description": "Bundles lift the average order above 95 EUR", "target_value": 95},
    "brand": {
        "description": "An entry offer brings new customers at an average order of 70 EUR",
        "target_value": 70,
        "direction": "decrease",
    },
}
