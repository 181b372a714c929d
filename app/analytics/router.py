"""Analytics: how marketing is really managed, as JSON (`rows` of flat objects) or CSV."""

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from app.analytics import service, zones
from app.analytics.schemas import (
    AccountabilityAnalytics,
    BasisAnalytics,
    Bucket,
    CalibrationAnalytics,
    CalibrationGroupBy,
    ContractorAnalytics,
    ContradictionAnalytics,
    GroupBy,
    KpiAnalytics,
    OutcomeAnalytics,
    OverrideAnalytics,
    OverrideGroupBy,
    StrategyChangeAnalytics,
    SummaryAnalytics,
    Weight,
)
from app.auth.dependencies import AnalyticsCaller
from app.core import csv
from app.core.errors import problem_responses
from app.core.http import ExactJSONResponse
from app.core.money import CURRENCY_RULE, Currency
from app.core.routing import SessionDep, domain_router
from app.core.types import UtcInput
from app.decisions.dependencies import RecordFiltersDep

router = domain_router(prefix="/analytics", tags=["analytics"], long_queries=True)

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BOUNDS = "A timestamp with a zone, or a bare date: that day's midnight in `tz`."
From = Annotated[
    UtcInput | None,
    Query(alias="from", description=f"Inclusive. Defaults to the first activity's bucket. {BOUNDS}"),
]
To = Annotated[UtcInput | None, Query(alias="to", description=f"Exclusive. Defaults to now. {BOUNDS}")]
Tz = Annotated[
    str | None,
    Query(
        max_length=64,
        description="The IANA time zone to answer in (`Europe/Berlin`, `America/New_York`, `Asia/Kolkata`); "
        "default the service's `DECISION_LOG_TIMEZONE` (itself `UTC` unless set). Buckets start at its local "
        "midnights (weeks on its Mondays), across daylight-saving changes; `period_start` is a date on its "
        "calendar; a bare date in `from`/`to` is its midnight. The answer echoes it (`tz`; the `Time-Zone` "
        "header, also on CSV). An unknown zone → 422.",
        examples=["Europe/Berlin"],
    ),
]
Format = Annotated[
    str | None,
    Query(
        alias="format",
        pattern="^(json|csv)$",
        description="`json` (default) or `csv`; `Accept: text/csv` also asks for CSV.",
    ),
]
Bom = Annotated[bool, Query(description="Start CSV with a UTF-8 byte-order mark (for Excel).")]


TIME_ZONE_HEADER = "Time-Zone"


def _responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}, "example": "period_start,group,total\r\n"}},
            "headers": {
                TIME_ZONE_HEADER: {
                    "description": "The IANA time zone of the answer (`tz`), on JSON and CSV alike.",
                    "schema": {"type": "string", "example": "Europe/Berlin"},
                }
            },
        },
        **problem_responses(422),
    }


class Answer:
    """How a report is answered: its model as JSON, or its rows as CSV (`format=csv` or `Accept: text/csv`);
    either way with the `Time-Zone` header naming the zone of its dates."""

    def __init__(self, request: Request, format: Format = None, bom: Bom = False) -> None:
        self.csv = csv.wants_csv(request.headers.get("accept"), format)
        self.bom = bom

    def __call__(self, result: BaseModel, name: str) -> Any:
        response: Any
        if not self.csv:
            response = ExactJSONResponse(result)
        else:
            rows = [row.model_dump(mode="json") for row in result.rows]  # type: ignore[attr-defined]
            columns = list(type(result.rows[0]).model_fields) if result.rows else _row_columns(result)  # type: ignore[attr-defined]
            response = csv.response(columns, rows, bom=self.bom, filename=name)
        response.headers[TIME_ZONE_HEADER] = result.tz  # type: ignore[attr-defined]
        return response


AnswerDep = Annotated[Answer, Depends()]


class Calendar:
    """The zone a request is answered in (`tz`, else `DECISION_LOG_TIMEZONE`; unknown → 422 naming `tz`), and
    its reading of `from`/`to`: a bare date is that day's local midnight, a timestamp the instant it names."""

    def __init__(self, request: Request, session: SessionDep, tz: Tz = None) -> None:
        self.tz = zones.check_zone(tz if tz is not None else session.settings.timezone)
        self.query = request.query_params

    def bound(self, value: datetime | None, name: str) -> datetime | None:
        raw = self.query.get(name)
        if value is None or raw is None or not DATE_ONLY.match(raw.strip()):
            return value
        return zones.local_midnight(value.date(), self.tz)  # the date's UTC midnight, as UtcInput read it


CalendarDep = Annotated[Calendar, Depends()]


def _row_columns(result: BaseModel) -> list[str]:
    annotation = type(result).model_fields["rows"].annotation
    row_model = annotation.__args__[0]  # type: ignore[union-attr]
    return list(row_model.model_fields)


@router.get("/basis", operation_id="getBasisAnalytics", responses=_responses(BasisAnalytics))
async def get_basis_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
    bucket: Bucket = Bucket.month,
    group_by: GroupBy = GroupBy.none,
    weight: Annotated[Weight, Query(description="`count`, or `budget`: the sum of `budget_amount` in `currency`.")] = (
        Weight.count
    ),
    currency: Annotated[
        Currency | None, Query(description=f"Required with `weight=budget`. {CURRENCY_RULE}", examples=["EUR"])
    ] = None,
) -> BasisAnalytics:
    """The share of decisions made on data versus on emotions, per bucket of `decided_at` and group.

    Buckets are the calendar of `tz` (default `DECISION_LOG_TIMEZONE`): each starts at a local midnight
    (weeks on the local Monday), across daylight-saving changes, and `period_start` is its local date.

    Rows: `period_start` (null when `bucket=none`), `group` (null when not grouped), `total`, `data`,
    `emotion`, `emotion_unsupported`, `data_share` = data / total and `emotion_share` = emotion / total
    (4 places, null when total is 0). Without `group_by`, every bucket between `from` and `to`
    appears, empty ones with total 0; grouped, only the non-empty (bucket, group) pairs appear, ordered
    by bucket then group, the decisions without a value for the group (no channel, no strategy) last
    with `group` null. With `weight=budget`, only decisions with a budget in `currency` count,
    weighted by it (no conversion between currencies): `total`, `data`, `emotion` and
    `emotion_unsupported` are then exact sums of the amounts, as JSON numbers with the digits they need.
    More than 10,000 buckets → 422.

    """
    result = await service.basis(
        session,
        start=calendar.bound(start, "from"),
        end=calendar.bound(end, "to"),
        tz=calendar.tz,
        bucket=bucket,
        group_by=group_by,
        weight=weight,
        currency=currency,
        filters=filters,
    )
    return answer(result, "basis")  # type: ignore[no-any-return]


@router.get(
    "/strategy-changes", operation_id="getStrategyChangeAnalytics", responses=_responses(StrategyChangeAnalytics)
)
async def get_strategy_change_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    start: From = None,
    end: To = None,
    bucket: Annotated[Bucket, Query(description="With a bucket, `series` counts changes per bucket.")] = Bucket.none,
) -> StrategyChangeAnalytics:
    """How often each strategy changes, over [`from`, `to`) of `effective_from`; the `series` buckets are
    the calendar of `tz` (local midnights, weeks on the local Monday).

    One row per strategy that had a version in force before `to` (or was recorded before `to`).
    Every version after the first is a change; `unexplained_changes` have a blank `change_reason`.
    Intervals run from the previous version's `effective_from` (which may lie before `from`), in
    fractional days. `current_version` is the version in force at `to` (or now, when `to` is later).
    `changes_per_month` = changes / (days in range / 30.4375). `unstable` is true when a change came
    less than `DECISION_LOG_STRATEGY_MIN_STABLE_DAYS` (default 30) after the previous one.
    `strategy_usage` is the share of decisions decided in range that name a strategy. The CSV form
    holds `rows`.
    """
    result = await service.strategy_changes(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz, bucket=bucket
    )
    return answer(result, "strategy-changes")  # type: ignore[no-any-return]


@router.get("/kpis", operation_id="getKpiAnalytics", responses=_responses(KpiAnalytics))
async def get_kpi_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    start: From = None,
    end: To = None,
) -> KpiAnalytics:
    """KPI hygiene: KPIs by `kind` and the `money_share`, KPIs without an owner, changes (revisions
    after the first) and unexplained changes (no `change_reason`) made in range, and decisions per
    KPI (decided in range). One row per KPI created before `to`."""
    result = await service.kpis(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz
    )
    return answer(result, "kpis")  # type: ignore[no-any-return]


@router.get("/accountability", operation_id="getAccountabilityAnalytics", responses=_responses(AccountabilityAnalytics))
async def get_accountability_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
) -> AccountabilityAnalytics:
    """Per owner, over decisions decided in range: decisions, `data_share`, `emotion_share`,
    reviewed, reviews due (`expected_outcome.review_by` passed by `to`, or now when `to` is later),
    overdue reviews (due and not reviewed), reversed (reversed or superseded) and `reversal_rate`; the person's
    `role`, `directed` (decisions they directed for others, `directed_by`) and `directed_emotion_share`. A person
    who directed decisions in range and owns none has a row too, with zero decisions."""
    result = await service.accountability(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz, filters=filters
    )
    return answer(result, "accountability")  # type: ignore[no-any-return]


@router.get("/outcomes", operation_id="getOutcomeAnalytics", responses=_responses(OutcomeAnalytics))
async def get_outcome_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
) -> OutcomeAnalytics:
    """One row per basis class (`data`, `emotion`) over decisions decided in range: reviewed,
    success, partial, failure, inconclusive and `success_rate` = success / (reviewed - inconclusive),
    null when that is 0. Measured against the target (a review's `actual_value` against the expected outcome's
    `target_value` in its direction): `target_met`, `target_missed`, and `success_with_target_missed`, the
    reviews that declared success although the numbers missed the target."""
    result = await service.outcomes(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz, filters=filters
    )
    return answer(result, "outcomes")  # type: ignore[no-any-return]


@router.get("/summary", operation_id="getSummaryAnalytics", responses=_responses(SummaryAnalytics))
async def get_summary_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    start: Annotated[
        UtcInput | None, Query(alias="from", description="Inclusive. Defaults to 90 days before `to`.")
    ] = None,
    end: To = None,
) -> SummaryAnalytics:
    """The owner's scorecard for a range (default the last 90 days): the headline figures of the
    other analytics endpoints in one row. Decision quality: `brier_score` (how well stated confidence matched
    what happened: 0 perfect, 0.25 a coin toss), `overrides` (decisions against the data's recommendation)
    and `override_success_rate`, `contradictions` (pairs of open decisions pulling one KPI both ways). The whole
    system: `data_claims_with_emotional_language` (decisions of class `data` whose rationale has a `feeling`,
    `certainty` or `hearsay` signal), `owner_directed` (decisions owned or directed by people with role `owner`)
    and `owner_directed_emotion_share`."""
    result = await service.summary(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz
    )
    return answer(result, "summary")  # type: ignore[no-any-return]


@router.get("/contractors", operation_id="getContractorAnalytics", responses=_responses(ContractorAnalytics))
async def get_contractor_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
    currency: Annotated[
        Currency | None,
        Query(description=f"The currency of `budget`; default the one most used in range. {CURRENCY_RULE}"),
    ] = None,
) -> ContractorAnalytics:
    """How each contractor's decisions turn out, and whom their failures are blamed on, over decisions decided
    in range: one row per registered contractor (by key; only the one asked for with `contractor`) and a last one,
    `contractor` null, for the decisions executed in-house.

    Rows: `decisions`, `budget` (the exact sum of the budgets in `currency`), `reviewed`, `success`, `partial`,
    `failure`, `inconclusive`, `success_rate` = success / (reviewed - inconclusive),
    `failures_blamed_on_execution` (reviews `partial` or `failure` whose `cause` is `execution`),
    `execution_blame_share` (that over the reviews `partial` or `failure` that give a cause) and
    `blamed_on_execution_decided_on_emotion` (of those blamed on execution, the decisions of class `emotion`:
    the contractor blamed for a decision made on emotions). Shares to 4 places, null when undefined."""
    result = await service.contractors(
        session,
        start=calendar.bound(start, "from"),
        end=calendar.bound(end, "to"),
        tz=calendar.tz,
        currency=currency,
        filters=filters,
    )
    return answer(result, "contractors")  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Decision quality (DESIGN part 2)
# ---------------------------------------------------------------------------------------------


@router.get("/calibration", operation_id="getCalibrationAnalytics", responses=_responses(CalibrationAnalytics))
async def get_calibration_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
    group_by: CalibrationGroupBy = CalibrationGroupBy.basis_class,
) -> CalibrationAnalytics:
    """Are the people who decide as sure as they should be? Each decision may state a `confidence` (the owner's
    probability that the expected outcome will be met); its review says what happened. A forecast is a reviewed
    decision with a confidence and a result other than `inconclusive`: `success` counts 1, `partial` 0.5,
    `failure` 0.

    Rows, per group (`basis_class` by default, both classes always shown; `owner`, `team`, `channel`, or `none`):
    `forecasts`, `mean_confidence` (how sure they said they were), `observed_rate` (how often it came true),
    `brier_score` = the mean of (confidence - what happened)²: 0 is perfect foresight, **0.25 is a coin toss**
    (always saying 50 %), above 0.25 worse than guessing; `overconfidence` = mean_confidence - observed_rate
    (0.2: twenty points surer than the results). 4 places, rounded half to even from exact sums (a confidence counts
    to six places); null without forecasts.

    `bins` (JSON only; the CSV holds `rows`): per group the ten bins of confidence [0, 0.1), …, [0.8, 0.9),
    [0.9, 1.0], empty ones with 0 forecasts: a well-calibrated team's `observed_rate` lies inside each bin.
    Decisions are chosen by `decided_at` in [`from`, `to`) and the decision filters."""
    result = await service.calibration(
        session,
        start=calendar.bound(start, "from"),
        end=calendar.bound(end, "to"),
        tz=calendar.tz,
        group_by=group_by,
        filters=filters,
    )
    return answer(result, "calibration")  # type: ignore[no-any-return]


@router.get("/overrides", operation_id="getOverrideAnalytics", responses=_responses(OverrideAnalytics))
async def get_override_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
    group_by: OverrideGroupBy = OverrideGroupBy.none,
) -> OverrideAnalytics:
    """Does overriding the data pay? Over the decisions that record a `data_recommendation`, one row per
    `followed` (`true`: the decision did what the data said; `false`: an override, "the data said X, we chose
    Y"), per group (`owner`, `team`) when asked: `decisions`, `reviewed`, `success`, `partial`, `failure`,
    `inconclusive`, and `success_rate` = success / (reviewed - inconclusive), null when that is 0. Compare the
    two rows' success rates. Decisions are chosen by `decided_at` in [`from`, `to`) and the decision filters."""
    result = await service.overrides(
        session,
        start=calendar.bound(start, "from"),
        end=calendar.bound(end, "to"),
        tz=calendar.tz,
        group_by=group_by,
        filters=filters,
    )
    return answer(result, "overrides")  # type: ignore[no-any-return]


@router.get("/contradictions", operation_id="getContradictionAnalytics", responses=_responses(ContradictionAnalytics))
async def get_contradiction_analytics(
    session: SessionDep,
    answer: AnswerDep,
    _: AnalyticsCaller,
    calendar: CalendarDep,
    filters: RecordFiltersDep,
    start: From = None,
    end: To = None,
) -> ContradictionAnalytics:
    """Decisions pulling one KPI in opposite directions, as they stand now: one row per pair of active,
    unreviewed decisions whose expected outcomes push the same `kpi` the other way (the expected outcome's
    `direction`, else the KPI's), decided within 90 days (inclusive) of each other: `decision_a` (the earlier),
    `decision_b`, their owners and directions. A pair is listed when at least one of its decisions was decided in
    [`from`, `to`) and matches the decision filters. Reversing or reviewing either decision ends the pair."""
    result = await service.contradiction_pairs(
        session, start=calendar.bound(start, "from"), end=calendar.bound(end, "to"), tz=calendar.tz, filters=filters
    )
    return answer(result, "contradictions")  # type: ignore[no-any-return]
