"""The demo's generator: from a seed and a day, a plan of everything ``decision-log demo`` records.

:func:`build_plan` is pure data generation: it draws the 12 months before that day (UTC) of the
team in :mod:`app.demo.data`, its data sources, strategies with their versions, KPIs and their
revisions, and several hundred decisions with corrections, outcome reviews, reversals and
supersessions. Owners differ in their habits (how often they decide on data, cite it, review their
outcomes), so every analytics endpoint has something to say. The same seed on the same day gives
the same data.

The same draws make the benchmarks' data sets: :func:`organisation` grows the team to any number of
people over any number of days, and :class:`Decisions` draws any number of its decisions, as API bodies
and as the rows the service writes for them (for COPY or INSERT).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from string import Formatter
from typing import Any

from app.auth.service import Caller
from app.contractors.schemas import ContractorKind, ContractorUpsert
from app.core.types import format_utc, utcnow
from app.decisions.classification import DATA_BASES, Basis
from app.decisions.repository import References
from app.decisions.schemas import (
    DecisionCreate,
    DecisionStatus,
    DecisionUpdate,
    OutcomeCause,
    OutcomeCreate,
    OutcomeResult,
)
from app.decisions.service import new_row
from app.demo.data import (
    AGENCIES,
    AGENCY_WORK,
    ALTERNATIVES,
    ALTERNATIVES_CHANCE,
    BUDGET_CHANCE,
    CAMPAIGNS,
    CAUSES,
    CHANNEL_KPIS,
    CHANNELS,
    CONFIDENCE_BY_BASIS,
    CONFIDENCE_BY_RESULT,
    CONTRACTORS,
    CONTRADICTED_KPI,
    CONTRADICTING,
    CONTRADICTING_CHANCE,
    DATA_RESULTS,
    DATA_SOURCES_FOR,
    DIRECTED,
    EMOTION_RESULTS,
    EMOTIONAL_ADDITIONS,
    EMOTIONAL_ADDITIONS_RU,
    EMOTIONAL_LANGUAGE_CHANCE,
    EVIDENCE,
    EVIDENCE_FIELDS,
    EXPERIMENT_SOURCES,
    FIRST_NAMES,
    FORECASTERS,
    INCONCLUSIVE_NOTES,
    KPI_BY_KEY,
    KPI_EXPECTATIONS,
    KPI_REVISIONS,
    KPI_TARGETS,
    KPIS,
    LAST_NAMES,
    LEADS,
    MEMBERS,
    MONTH_WEIGHT,
    OVERCONFIDENT,
    OVERRIDE_CHANCE,
    OWNER,
    RATIONALES,
    RATIONALES_RU,
    RECOMMENDATIONS,
    RECOMMENDED_CHANCE,
    REGIONS,
    RESEARCH_SOURCES,
    RESULT_RATIOS,
    RESULT_WORDS,
    REVERSAL_REASONS,
    SEGMENTS,
    SOURCES,
    STRATEGIES,
    TEAM_CATEGORIES,
    TEAM_CHANNELS,
    TEAM_STRATEGY,
    TITLES,
    TITLES_RU,
    UNREVIEWED_CONFIDENCE,
    WEEKDAY_WEIGHT,
    Member,
)
from app.kpis.schemas import KpiPut
from app.people.schemas import PersonRole, PersonUpsert
from app.sources.schemas import DataSourceUpsert
from app.strategies.schemas import StrategyCreate, StrategyVersionCreate

DEFAULT_SEED = 2026
DAYS = 365


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
    org = _organisation(rng, start, end, len(MEMBERS))
    plan = DemoPlan(
        seed=seed,
        start=start,
        end=end,
        people=org.people,
        sources=org.sources,
        strategies=org.strategies,
        versions=org.versions,
        kpis=org.kpis,
        decisions=[],
        corrections=[],
        outcomes=[],
        reversals=[],
    )
    first_version = org.first_versions()
    drafts = [_decision(rng, start, day, member, first_version) for day, member in _calendar(rng, start)]
    drafts.sort(key=lambda d: d.decided_at)
    whole = random.Random(seed * 31 + 21)  # its own draws: the rest of the plan is the same with or without it
    _whole_system(whole, plan, drafts)
    plan.decisions = [DecisionCreate.model_validate(d.body) for d in drafts]
    plan.corrections = _corrections(rng, drafts)  # from here on, drafts hold the corrected state
    plan.outcomes = _causes(whole, drafts, _outcomes(rng, drafts, start, end))
    plan.reversals = _reversals(rng, drafts)
    _quality(random.Random(seed + 1), plan, drafts)
    return plan


def _whole_system(rng: random.Random, plan: DemoPlan, drafts: list[_Draft]) -> None:
    """The owner and the leads' roles, the agencies, and on the drafts: who executes, who directed, and a few
    data claims in emotional language."""
    leads = set(LEADS.values())
    handle, name, team = OWNER
    owner = PersonUpsert(name=name, email=f"{handle}@example.com", team=team, role=PersonRole.owner)
    plan.people = [
        (key, person.model_copy(update={"role": PersonRole.lead}) if key in leads else person)
        for key, person in plan.people
    ] + [(handle, owner)]
    plan.contractors = [
        (key, ContractorUpsert(name=title, kind=ContractorKind(kind))) for key, title, kind, _ in CONTRACTORS
    ]
    shares = {key: share for key, _, _, share in CONTRACTORS}
    for d in drafts:
        if rng.random() < AGENCY_WORK.get(d.body["channel"], 0.0):
            d.body["contractor"] = _pick(rng, shares)
        if rng.random() < DIRECTED.get(Basis(d.body["basis"]), 0.0):
            d.body["directed_by"] = handle
        if Basis(d.body["basis"]) in DATA_BASES and rng.random() < EMOTIONAL_LANGUAGE_CHANCE:
            addition = rng.choice(EMOTIONAL_ADDITIONS_RU if d.russian else EMOTIONAL_ADDITIONS)
            d.body["rationale"] = f"{d.body['rationale']} {addition.format(ch=CHANNELS[d.body['channel']][0])}"


def _causes(
    rng: random.Random, drafts: list[_Draft], outcomes: list[tuple[int, OutcomeCreate]]
) -> list[tuple[int, OutcomeCreate]]:
    """What the reviews of partial successes and failures blame (:data:`app.demo.data.CAUSES`)."""
    out = []
    for index, review in outcomes:
        if review.result in (OutcomeResult.partial, OutcomeResult.failure):
            d = drafts[index]
            cause = OutcomeCause(_pick(rng, CAUSES[(d.body.get("contractor"), not d.is_data)]))
            review = review.model_copy(update={"cause": cause})
        out.append((index, review))
    return out


def _quality(rng: random.Random, plan: DemoPlan, drafts: list[_Draft]) -> None:
    """Decision quality on the planned decisions (its own random sequence: the rest of the plan stays as it was):
    stated confidence (calibrated owners, and one overconfident), the data's recommendation (followed by the data
    decisions that record it; overridden by emotional ones, mostly those that then failed), the options not taken,
    and one pair of open decisions pulling one KPI both ways."""
    results = {index: outcome.result for index, outcome in plan.outcomes}
    for index, draft in enumerate(drafts):
        body, result = draft.body, results.get(index)
        forecaster = FORECASTERS[draft.member.handle]
        if rng.random() < forecaster.states:
            low, high = (
                OVERCONFIDENT
                if not forecaster.calibrated
                else CONFIDENCE_BY_RESULT[result]
                if result
                else UNREVIEWED_CONFIDENCE
            )
            body["confidence"] = round(rng.uniform(low, high), 2)
        recommendation = rng.choice(RECOMMENDATIONS).format(**_recommendation_context(rng, body))
        if draft.is_data and rng.random() < RECOMMENDED_CHANCE:
            body["data_recommendation"] = {"option": recommendation, "followed": True}
        elif not draft.is_data and result is not None and rng.random() < OVERRIDE_CHANCE[result]:
            body["data_recommendation"] = {"option": recommendation, "followed": False}
        if rng.random() < ALTERNATIVES_CHANCE:
            chosen = rng.sample(ALTERNATIVES, rng.choice((1, 2)))
            body["alternatives"] = [{"title": t, **({"reason_rejected": r} if r else {})} for t, r in chosen]
    _contradicting_pair(plan, drafts, results)
    plan.decisions = [DecisionCreate.model_validate(d.body) for d in drafts]


def _recommendation_context(rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
    channel = body["channel"]
    other = rng.choice([c for c in CHANNELS if c != channel])
    return {
        "ch": CHANNELS[channel][0],
        "other": CHANNELS[other][0],
        "cr": round(rng.uniform(2.0, 4.5), 1),
        "cr2": round(rng.uniform(0.5, 1.9), 1),
        "target": 50,
        "romi": round(rng.uniform(1.8, 3.4), 1),
    }


def _contradicting_pair(plan: DemoPlan, drafts: list[_Draft], results: Mapping[int, Any]) -> None:
    """The latest open decisions of performance and brand decided within 90 days of each other are turned to pull
    the pair's own KPI (:data:`CONTRADICTED_KPI`) both ways: they contradict each other, and nothing else does."""
    key = CONTRADICTED_KPI[0]
    plan.kpis.append(contradicted_kpi())
    closed = set(results) | {r.decision for r in plan.reversals} | {index for index, _ in plan.corrections}
    latest: dict[str, _Draft] = {}
    for index in reversed(range(len(drafts))):
        team = drafts[index].member.team
        if index not in closed and team in CONTRADICTING and team not in latest:
            latest[team] = drafts[index]
    pair = list(latest.values())
    if len(pair) == 2 and abs(pair[0].decided_at - pair[1].decided_at) <= timedelta(days=90):
        for draft in pair:
            review_by = (draft.body.get("expected_outcome") or {}).get("review_by")
            draft.body["expected_outcome"] = {"kpi": key, "review_by": review_by, **CONTRADICTING[draft.member.team]}
            draft.body["kpis"] = [key]


def contradicted_kpi() -> tuple[str, KpiPut]:
    """The KPI that the contradicting decisions pull both ways (:data:`CONTRADICTED_KPI`), as it is registered."""
    key, name, unit, kind, target, direction, owner = CONTRADICTED_KPI
    values = {"name": name, "unit": unit, "kind": kind, "target": target, "direction": direction, "owner": owner}
    return key, KpiPut.model_validate(values)


def _versions(rng: random.Random, start: datetime, days: int = DAYS) -> list[tuple[str, StrategyVersionCreate]]:
    """The strategies' versions, their days of the year spread over ``days``."""
    out = []
    for key, (_, _, versions) in STRATEGIES.items():
        for year_day, summary, reason, by in versions:
            day = year_day * days // DAYS
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
    return _draw(rng, _decided_at(rng, start, day), day, member, first_version)


def _decided_at(rng: random.Random, start: datetime, day: int) -> datetime:
    return start + timedelta(days=day, hours=rng.randint(7, 18), minutes=rng.randrange(0, 60, 5))


def _draw(
    rng: random.Random, decided_at: datetime, day: int, member: Member, first_version: Mapping[str, datetime]
) -> _Draft:
    """A decision of ``member`` on ``day`` of the data (from 0) at ``decided_at``."""
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
    span = KPI_TARGETS[kpi]
    return float(rng.randrange(span.start, span.stop, span.step))


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _expectation(kpi: str, target: float, channel: str) -> str:
    return _capitalised(KPI_EXPECTATIONS[kpi].format(target=_number(target), channel=channel))


def _evidence(rng: random.Random, basis: Basis, channel: str, category: str, when: datetime) -> list[dict[str, Any]]:
    if basis is Basis.experiment:
        candidates: tuple[str, ...] = EXPERIMENT_SOURCES
    elif basis is Basis.research:
        candidates = RESEARCH_SOURCES
    else:
        candidates = DATA_SOURCES_FOR[channel] + (("finance-bi",) if category in {"budget", "pricing"} else ())
    count = rng.choice((1, 1, 1, 2, 2, 3))
    chosen = list(dict.fromkeys(rng.choice(candidates) for _ in range(count)))
    return [_evidence_item(rng, source, when) for source in chosen]


def _template_fields(*templates: str | None) -> tuple[str, ...]:
    names = (name for text in templates if text for _, name, _, _ in Formatter().parse(text) if name)
    return tuple(dict.fromkeys(name for name in names if name in EVIDENCE_FIELDS))


DRAWN_FIELDS = {source: _template_fields(shape.reference, shape.note) for source, shape in EVIDENCE.items()}


def _evidence_item(rng: random.Random, source: str, when: datetime) -> dict[str, Any]:
    shape = EVIDENCE[source]
    context: dict[str, Any] = {"month": (when - timedelta(days=20)).strftime("%Y-%m")}
    for name in DRAWN_FIELDS[source]:
        context[name] = rng.randint(*EVIDENCE_FIELDS[name])
    if shape.places is None:
        value = float(rng.randint(int(shape.low), int(shape.high)))
    else:
        value = round(rng.uniform(shape.low, shape.high), shape.places)
    item = {"source": source, "reference": shape.reference.format(**context), "metric": shape.metric, "value": value}
    if shape.note:
        item["note"] = shape.note.format(**context)
    return item


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


def _outcomes(
    rng: random.Random, drafts: list[_Draft], start: datetime, end: datetime
) -> list[tuple[int, OutcomeCreate]]:
    """Reviews of due decisions, as often as each owner bothers; data decisions succeed more often."""
    out = [(i, review) for i, d in enumerate(drafts) if (review := _review(rng, d, start, end)) is not None]
    out.sort(key=lambda item: (item[1].reviewed_at, item[0]))
    return out


def _review(rng: random.Random, d: _Draft, start: datetime, end: datetime) -> OutcomeCreate | None:
    """The outcome review of ``d`` before ``end``, if it is due by then and its owner bothers."""
    due = d.review_by
    if due is None or due > end or rng.random() >= d.member.reviews:
        return None
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
        direction = expected.get("direction") or (KPI_BY_KEY.get(expected["kpi"]) or CONTRADICTED_KPI)[5]
        decrease = direction == "decrease"
        actual = round(target / ratio if decrease else target * ratio, 1)
        notes = f"{RESULT_WORDS[result]}: {_number(actual)} against a target of {_number(target)}."
    owner_present = d.member.active_on((reviewed_at - start).days)
    reviewer = d.member.handle if owner_present and rng.random() < 0.75 else LEADS[d.member.team]
    return OutcomeCreate(result=result, notes=notes, actual_value=actual, reviewed_by=reviewer, reviewed_at=reviewed_at)


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
# The organisation, and any number of its decisions (the benchmarks' data sets)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organisation:
    """The demo's organisation over [start, end): its people (the demo's team, and more like them in a larger
    one), and the registries to record before its decisions, in order."""

    start: datetime
    end: datetime
    members: tuple[Member, ...]
    people: list[tuple[str, PersonUpsert]]
    sources: list[tuple[str, DataSourceUpsert]]
    strategies: list[StrategyCreate]
    versions: list[tuple[str, StrategyVersionCreate]]  # in order of effective_from
    kpis: list[tuple[str, KpiPut]]  # the first of a key creates the KPI, the others revise it

    def first_versions(self) -> dict[str, datetime]:
        first: dict[str, datetime] = {}
        for key, version in self.versions:
            first.setdefault(key, version.effective_from)
        return first

    def references(self) -> References:
        """The registries as the service reads them for a write (versions numbered in the order recorded)."""
        versions: dict[str, list[tuple[datetime, int]]] = {strategy.key: [] for strategy in self.strategies}
        for key, version in self.versions:
            versions[key].append((version.effective_from, len(versions[key]) + 1))
        return References(
            teams={member.handle: member.team for member in self.members},
            sources={key for key, _ in self.sources},
            kpis={key: kpi.direction.value if kpi.direction else None for key, kpi in self.kpis},
            strategies=versions,
        )


def organisation(
    seed: int = DEFAULT_SEED, *, days: int = DAYS, today: date | None = None, people: int = len(MEMBERS)
) -> Organisation:
    """The organisation of ``people`` (at least the demo's team) over the ``days`` before ``today`` (UTC)."""
    end = _midnight(today or utcnow().date())
    return _organisation(random.Random(seed), end - timedelta(days=days), end, people)


def _organisation(rng: random.Random, start: datetime, end: datetime, people: int) -> Organisation:
    days = (end - start).days
    members = _crowd(people, days)
    return Organisation(
        start=start,
        end=end,
        members=members,
        people=[
            (
                m.handle,
                PersonUpsert(name=m.name, email=f"{m.handle}@example.com", team=m.team, active=m.left_on_day is None),
            )
            for m in members
        ],
        sources=[
            (key, DataSourceUpsert.model_validate({"name": name, "kind": kind, "url": url}))
            for key, name, kind, url in SOURCES
        ],
        strategies=[
            StrategyCreate(key=key, title=title, description=text) for key, (title, text, _) in STRATEGIES.items()
        ],
        versions=_versions(rng, start, days),
        kpis=_kpis(),
    )


def _crowd(people: int, days: int) -> tuple[Member, ...]:
    """The demo's team, then people taking the habits and team of its members in turn (their activity tapering
    off): ``people`` in all, leaving at the same point of ``days`` as of the demo's year."""
    if people < len(MEMBERS):
        raise ValueError(f"the organisation has at least the demo's {len(MEMBERS)} people")
    members = [m if m.left_on_day is None else replace(m, left_on_day=m.left_on_day * days // DAYS) for m in MEMBERS]
    taken = {m.handle for m in members}
    for i in range(people - len(MEMBERS)):
        like = members[i % len(MEMBERS)]
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i + i // len(FIRST_NAMES)) % len(LAST_NAMES)]
        handle = f"{first}.{last}" if f"{first}.{last}" not in taken else f"{first}.{last}.{i}"
        taken.add(handle)
        members.append(
            replace(
                like,
                handle=handle,
                name=f"{first.title()} {last.title()}",
                activity=like.activity / (1 + i % 5),
                left_on_day=None,
            )
        )
    return tuple(members)


# Outcome and reversal columns of a stored row, as the service fills them (see decisions.service).
LIFECYCLE = (
    "reversal_reason", "reversed_by", "reversed_at", "superseded_by", "outcome_result", "outcome_notes",
    "outcome_actual_value", "outcome_reviewed_by", "outcome_reviewed_at", "outcome_recorded_at",
)  # fmt: skip


class Decisions:
    """``count`` decisions of ``org`` spread over its days in ``decided_at`` order, drawn from ``seed`` the way the
    demo draws its own: as the bodies a client posts (:meth:`payloads`), and as the rows the service holds for
    them once their outcome reviews and reversals are in (:meth:`rows`, for a direct load: COPY, INSERT).

    Only the times and the owners are held at once, so millions of decisions stream in little memory.
    With ``external_refs``, every other decision carries one (``PLAN-<index>``); ``contradicting`` is the chance
    of an opposite pull on the contradicted KPI (:func:`_forecast`)."""

    def __init__(
        self,
        org: Organisation,
        count: int,
        *,
        seed: int = DEFAULT_SEED,
        external_refs: bool = False,
        contradicting: float = CONTRADICTING_CHANCE,
    ):
        self.org, self.count, self.seed, self.external_refs = org, count, seed, external_refs
        self.contradicting = contradicting
        self.first_version = org.first_versions()
        days = (org.end - org.start).days
        self.day_weights = list(
            accumulate(
                MONTH_WEIGHT[when.month] * WEEKDAY_WEIGHT[when.weekday()]
                for when in (org.start + timedelta(days=day) for day in range(days))
            )
        )
        self.present: dict[int, tuple[list[Member], list[float]]] = {}
        self.loose = random.Random(seed + 2)  # for payload_at: drafts() stays the same however often it runs

    def drafts(self) -> Iterator[_Draft]:
        rng = random.Random(self.seed)
        # Decision quality from a sequence of its own, so that the rest of every decision is drawn as before.
        quality = random.Random(self.seed + 3)
        days = rng.choices(range(len(self.day_weights)), cum_weights=self.day_weights, k=self.count)
        # To the microsecond, unlike the demo's five minutes: among millions, a time names one decision.
        times = sorted((_decided_at(rng, self.org.start, day) + _jitter(rng), day) for day in days)
        for index, (decided_at, day) in enumerate(times):
            yield self._draft(rng, index, decided_at, day, quality)

    def _draft(
        self, rng: random.Random, index: int, decided_at: datetime, day: int, quality: random.Random | None = None
    ) -> _Draft:
        if day not in self.present:
            present = [m for m in self.org.members if m.active_on(day)]
            self.present[day] = present, list(accumulate(m.activity for m in present))
        present, weights = self.present[day]
        draft = _draw(rng, decided_at, day, rng.choices(present, cum_weights=weights)[0], self.first_version)
        if self.external_refs and rng.random() < 0.5:
            draft.body["external_ref"] = {"system": "planner", "id": f"PLAN-{index:08d}"}
        _forecast(quality or rng, draft, self.contradicting)
        return draft

    def payloads(self) -> Iterator[dict[str, Any]]:
        """The JSON bodies of ``POST /v1/decisions`` (or the items of a batch), in order."""
        for draft in self.drafts():
            yield _payload(draft)

    def payload_at(self, index: int, decided_at: datetime) -> dict[str, Any]:
        """One more body, decided at ``decided_at`` (within the organisation's days), numbered ``index``."""
        day = min(max((decided_at - self.org.start).days, 0), len(self.day_weights) - 1)
        return _payload(self._draft(self.loose, index, decided_at, day))

    def rows(self, caller: Caller) -> Iterator[dict[str, Any]]:
        """The ``decision`` rows, as the service writes them for ``caller`` (its own :func:`new_row`), recorded a
        little after they were made, with the outcome reviews and reversals of the organisation's days applied.
        Every row has the same keys; revisions and rollups are not made (a loader rebuilds what it needs)."""
        org, references, rng = self.org, self.org.references(), random.Random(self.seed + 1)
        key, kpi = contradicted_kpi()
        references.kpis.setdefault(key, kpi.direction.value if kpi.direction else None)
        last = org.end - timedelta(seconds=1)
        for draft in self.drafts():
            decided_at = draft.decided_at
            recorded = min(decided_at + timedelta(seconds=rng.randrange(60, 4 * 86400)), last)
            row = stored_row(draft.body, references, recorded, caller)
            if (review := _review(rng, draft, org.start, org.end)) is not None:
                assert review.reviewed_at is not None
                at = max(review.reviewed_at, recorded)
                row.update(
                    outcome_result=review.result.value, outcome_notes=review.notes,
                    outcome_actual_value=review.actual_value, outcome_reviewed_by=review.reviewed_by,
                    outcome_reviewed_at=at, outcome_recorded_at=at, revision=row["revision"] + 1, updated_at=at,
                )  # fmt: skip
            if rng.random() < (0.03 if draft.is_data else 0.08):
                at = max(min(decided_at + timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 8)), last), recorded)
                row.update(
                    status=DecisionStatus.reversed.value, reversal_reason=rng.choice(REVERSAL_REASONS),
                    reversed_by=_editor(rng, draft.member), reversed_at=at, revision=row["revision"] + 1,
                    updated_at=max(row["updated_at"], at),
                )  # fmt: skip
            yield row


def _forecast(rng: random.Random, draft: _Draft, contradicting: float = CONTRADICTING_CHANCE) -> None:
    """Decision quality at scale: the owner's stated confidence, as often and as sure as the basis makes it
    (:data:`CONFIDENCE_BY_BASIS`), and now and then (:data:`CONTRADICTING_CHANCE`) an expected outcome of the teams
    of :data:`CONTRADICTING` that pulls the pair's KPI their way (register :func:`contradicted_kpi` first)."""
    body = draft.body
    chance, (low, high) = CONFIDENCE_BY_BASIS[Basis(body["basis"])]
    if rng.random() < chance:
        body["confidence"] = round(rng.uniform(low, high), 2)
    pull = CONTRADICTING.get(draft.member.team)
    expected = body.get("expected_outcome")
    if pull is not None and expected is not None and rng.random() < contradicting:
        body["expected_outcome"] = {"kpi": CONTRADICTED_KPI[0], "review_by": expected["review_by"], **pull}
        body["kpis"] = [CONTRADICTED_KPI[0]]


def stored_row(body: dict[str, Any], references: References, at: datetime, caller: Caller) -> dict[str, Any]:
    """The ``decision`` row the service writes for ``body`` (a payload or a draft's body) recorded at ``at`` by
    ``caller``, every lifecycle column present (empty)."""
    row = new_row(DecisionCreate.model_validate(body), references, at, caller)
    row.update(dict.fromkeys(LIFECYCLE))
    return row


def _jitter(rng: random.Random) -> timedelta:
    return timedelta(seconds=rng.randrange(300), microseconds=rng.randrange(1_000_000))


def _payload(draft: _Draft) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in draft.body.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, dict):
        return {name: _jsonable(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value
