"""Business rules for decisions: validation against the registries, classification, history."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.auth.service import Caller
from app.core import money, observability
from app.core.errors import Conflict, FieldError, UnknownReference, Unprocessable
from app.core.http import check_if_match, etag_of
from app.core.types import AnyRow, column_getter, format_utc, new_id, utcnow
from app.core.unit_of_work import DatabaseSession
from app.decisions import contradictions, repository
from app.decisions.classification import classify
from app.decisions.errors import (
    DecisionNotActive,
    DecisionNotFound,
    DuplicateExternalRef,
    OutcomeAlreadyRecorded,
    SupersessionCycle,
)
from app.decisions.rationale_signals import stored_signals
from app.decisions.repository import DecisionFilters
from app.decisions.schemas import (
    DecisionCreate,
    DecisionDetail,
    DecisionRead,
    DecisionRevisionRead,
    DecisionStatus,
    DecisionUpdate,
    ExpectedOutcome,
    OutcomeCreate,
    OutcomeResult,
    ReverseRequest,
    RevisionKind,
)
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.kpis.schemas import KpiDirection

# The API's JSON form of a decision (:func:`decision_json`): what the write path answers, snapshots and logs.
DecisionJson = dict[str, Any]


def etag(decision: DecisionRead | DecisionJson) -> str:
    """The entity tag of a decision's revision, from the read model or the JSON form the write path built."""
    if isinstance(decision, dict):
        return etag_of(decision["id"], decision["revision"])
    return etag_of(decision.id, decision.revision)


# ---------------------------------------------------------------------------------------------
# Row <-> API shape
# ---------------------------------------------------------------------------------------------


def to_read(row: Any) -> DecisionRead:
    """The API shape of a stored decision (a result row or the values just written)."""
    return DecisionRead.model_validate(_api_fields(column_getter(row)))


def decision_json(row: Any) -> DecisionJson:
    """The JSON form of a decision: its read model (:func:`to_read`) as pydantic dumps it, the one serialisation of
    a decision. The write path answers (with its amount as an exact number: :func:`app.core.money.answer_form`),
    snapshots and logs it."""
    return to_read(row).model_dump(mode="json")


def _api_fields(get: Callable[[str], Any]) -> dict[str, Any]:
    """The API's fields of a decision from its columns (``get(column)``): the one place that maps the one to the
    other."""
    expected = get("expected_outcome")
    outcome = None
    if get("outcome_result") is not None:
        outcome = {
            "result": get("outcome_result"),
            "notes": get("outcome_notes"),
            "actual_value": get("outcome_actual_value"),
            "reviewed_by": get("outcome_reviewed_by"),
            "reviewed_at": get("outcome_reviewed_at"),
            "recorded_at": get("outcome_recorded_at"),
            "cause": get("outcome_cause"),
            "target_met": get("outcome_target_met"),
        }
    reversal = None
    if get("reversed_at") is not None:
        reversal = {
            "reason": get("reversal_reason"),
            "by": get("reversed_by"),
            "at": get("reversed_at"),
            "superseded_by": get("superseded_by"),
        }
    return {
        "id": get("id"),
        "title": get("title"),
        "description": get("description"),
        "rationale": get("rationale"),
        "basis": get("basis"),
        "basis_class": get("basis_class"),
        "classification_reason": get("classification_reason"),
        "evidence": [
            {
                "source": item["source"],
                "reference": item["reference"],
                "metric": item.get("metric"),
                "value": item.get("value"),
                "note": item.get("note"),
            }
            for item in get("evidence")
        ],
        "owner": get("owner_handle"),
        "participants": get("participants"),
        "team": get("team"),
        "channel": get("channel"),
        "category": get("category"),
        "budget_amount": get("budget_amount"),
        "budget_currency": get("budget_currency"),
        "decided_at": get("decided_at"),
        "strategy": get("strategy_key"),
        "strategy_version": get("strategy_version"),
        "kpis": get("kpis") or [],
        "expected_outcome": None
        if expected is None
        else {
            "description": expected["description"],
            "kpi": expected.get("kpi"),
            "target_value": expected.get("target_value"),
            "review_by": expected.get("review_by"),
            "direction": expected.get("direction"),
        },
        "tags": get("tags"),
        "external_ref": None
        if get("external_system") is None
        else {"system": get("external_system"), "id": get("external_id")},
        "status": get("status"),
        "revision": get("revision"),
        "recorded_at": get("recorded_at"),
        "recorded_by": get("recorded_by"),
        "updated_at": get("updated_at"),
        "outcome": outcome,
        "reversal": reversal,
        "contractor": get("contractor_key"),
        "directed_by": get("directed_by"),
        "rationale_signals": get("rationale_signals") or [],
        **_quality_fields(get),
    }


def _quality_fields(get: Callable[[str], Any]) -> dict[str, Any]:
    """The decision-quality fields (DESIGN part 2) from their columns."""
    option = get("recommended_option")
    return {
        "confidence": get("confidence"),
        "alternatives": [
            {"title": item["title"], "reason_rejected": item.get("reason_rejected")}
            for item in get("alternatives") or []
        ],
        "data_recommendation": None
        if option is None
        else {"option": option, "followed": get("recommendation_followed")},
    }


def _content_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Columns for the client-editable fields present in ``fields`` (validated schema values)."""
    columns: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "owner":
            columns["owner_handle"] = value
        elif name == "strategy":
            columns["strategy_key"] = value
        elif name == "evidence":
            columns["evidence"] = [e.model_dump(mode="json", exclude_none=True) for e in value]
            columns["evidence_count"] = len(value)
        elif name == "expected_outcome":
            columns["expected_outcome"] = value.model_dump(mode="json", exclude_none=True) if value else None
            columns["review_by"] = value.review_by if value else None
            columns["expected_kpi"] = value.kpi if value else None
            columns["expected_direction"] = value.direction.value if value and value.direction else None
        elif name == "alternatives":
            columns["alternatives"] = [a.model_dump(mode="json", exclude_none=True) for a in value]
        elif name == "data_recommendation":
            columns["recommended_option"] = value.option if value else None
            columns["recommendation_followed"] = value.followed if value else None
        elif name == "category":
            columns["category"] = value.value
        elif name == "basis":
            columns["basis"] = value.value
        elif name == "external_ref":
            columns["external_system"] = value.system if value else None
            columns["external_id"] = value.id if value else None
        elif name == "contractor":
            columns["contractor_key"] = value
        elif name == "rationale":
            columns["rationale"] = value
            columns["rationale_signals"], columns["rationale_signal_mask"] = _signals(value)
        else:
            columns[name] = value
    return columns


# Whether a rationale is analysed when it is written (rationale_signals). Always on in the service: only
# bench/serve.py --no-rationale-signals turns it off, to measure what the analysis costs the write path.
ANALYSE_RATIONALES = True


def _signals(rationale: str) -> tuple[list[dict[str, str]], int]:
    return stored_signals(rationale) if ANALYSE_RATIONALES else ([], 0)


# ---------------------------------------------------------------------------------------------
# Validation against the registries and the clock
# ---------------------------------------------------------------------------------------------


Loc = list[str | int]


def _latest_allowed(session: DatabaseSession, now: datetime) -> datetime:
    """The latest time a decision or review may carry: now plus the clock skew allowed."""
    return now + timedelta(seconds=session.settings.clock_skew_seconds)


def _check_budget(amount: Decimal, currency: str, prefix: Loc, field: str) -> list[FieldError]:
    """The amount has no more decimal places than its currency's minor unit (JPY none, EUR 2, KWD 3)."""
    if (problem := money.decimal_places_error(amount, currency)) is not None:
        return [FieldError(loc=[*prefix, field], msg=problem, type="decimal_max_places")]
    return []


def _check_not_future(value: datetime | None, latest: datetime, prefix: Loc, field: str) -> list[FieldError]:
    if value is not None and value > latest:
        return [FieldError(loc=[*prefix, field], msg="must not lie in the future", type="value_error.future")]
    return []


ORDER_ERROR = "value_error.order"  # a time before one it must follow


def _check_review_by(
    review_by: datetime | None, decided_at: datetime, prefix: Loc, *, changed: bool
) -> list[FieldError]:
    """A review is due after the decision: ``review_by`` not before ``decided_at``. ``changed``: the request sets
    ``expected_outcome`` (the error names its ``review_by``), else only ``decided_at`` (the error names it)."""
    if review_by is None or review_by >= decided_at:
        return []
    if changed:
        loc, msg = [*prefix, "expected_outcome", "review_by"], f"must not precede decided_at ({format_utc(decided_at)})"
    else:
        loc, msg = [*prefix, "decided_at"], f"must not follow expected_outcome.review_by ({format_utc(review_by)})"
    return [FieldError(loc=loc, msg=msg, type=ORDER_ERROR)]


def _check_history(current: DecisionRead, decided_at: datetime) -> list[FieldError]:
    """A corrected ``decided_at`` must not follow what already happened to the decision: its outcome review, its
    reversal."""
    events = [("the outcome review's reviewed_at", current.outcome.reviewed_at if current.outcome else None)]
    events.append(("the reversal", current.reversal.at if current.reversal else None))
    return [
        FieldError(loc=["body", "decided_at"], msg=f"must not follow {what} ({format_utc(at)})", type=ORDER_ERROR)
        for what, at in events
        if at is not None and decided_at > at
    ]


# A registry reference in a body: (kind, key, the item's loc, the field's path in it). The loc of an unknown
# one is only put together for the error: a batch names thousands of references and most are known.
Reference = tuple[str, str, Loc, tuple[str | int, ...]]


def _wanted(data: DecisionCreate | DecisionUpdate, prefix: Loc) -> list[Reference]:
    """Every registry reference in a decision body."""
    wanted: list[Reference] = []
    if data.owner is not None:
        wanted.append(("person", data.owner, prefix, ("owner",)))
    for i, handle in enumerate(data.participants or ()):
        wanted.append(("person", handle, prefix, ("participants", i)))
    for i, item in enumerate(data.evidence or ()):
        wanted.append(("data source", item.source, prefix, ("evidence", i, "source")))
    if data.strategy is not None:
        wanted.append(("strategy", data.strategy, prefix, ("strategy",)))
    for i, key in enumerate(data.kpis or ()):
        wanted.append(("KPI", key, prefix, ("kpis", i)))
    if data.expected_outcome is not None and data.expected_outcome.kpi is not None:
        wanted.append(("KPI", data.expected_outcome.kpi, prefix, ("expected_outcome", "kpi")))
    if data.contractor is not None:
        wanted.append(("contractor", data.contractor, prefix, ("contractor",)))
    if data.directed_by is not None:
        wanted.append(("person", data.directed_by, prefix, ("directed_by",)))
    return wanted


def _check_directed_by(owner: str | None, directed_by: str | None, prefix: Loc) -> list[FieldError]:
    """``directed_by`` names someone else than the owner: the owner's own call needs none."""
    if directed_by is None or directed_by != owner:
        return []
    msg = f"names the owner ({owner!r}): directed_by is for a call that was someone else's"
    return [FieldError(loc=[*prefix, "directed_by"], msg=msg, type="value_error.directed_by_owner")]


async def _check_references(
    session: DatabaseSession, wanted: list[Reference], *, errors: list[FieldError] | None = None
) -> repository.References:
    """Raise 422 naming every unknown person, data source, strategy or KPI (and any ``errors`` already
    found); otherwise return what was found."""
    refs = await repository.writer_of(session).resolve_references(session, _keys(wanted))
    found = {
        "person": refs.teams.keys(),
        "data source": refs.sources,
        "strategy": refs.strategies.keys(),
        "KPI": refs.kpis,
        "contractor": {key for key, active in refs.contractors.items() if active},
    }
    errors = list(errors or [])
    errors += [
        FieldError(
            loc=[*prefix, *path],
            msg=f"inactive {kind} {key!r}"
            if kind == "contractor" and key in refs.contractors
            else f"unknown {kind} {key!r}",
            type="unknown_reference",
        )
        for kind, key, prefix, path in wanted
        if key not in found[kind]
    ]
    if errors:
        # The unknown-reference code only when a reference is unknown; other findings (a time in the
        # future, …) are plain validation failures.
        error = UnknownReference if any(e.type == "unknown_reference" for e in errors) else Unprocessable
        raise error(_summary(errors), errors=errors)
    return refs


def _keys(wanted: list[Reference]) -> repository.ReferenceKeys:
    keys = repository.ReferenceKeys()
    by_kind = {
        "person": keys.people,
        "data source": keys.sources,
        "strategy": keys.strategies,
        "KPI": keys.kpis,
        "contractor": keys.contractors,
    }
    for kind, key, _, _ in wanted:
        by_kind[kind].add(key)
    return keys


def _summary(errors: list[FieldError]) -> str:
    return "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


async def create_decision(session: DatabaseSession, data: DecisionCreate, caller: Caller) -> DecisionJson:
    (decision,) = await create_decisions(session, [data], caller, loc=lambda _: ["body"])
    return decision


async def create_decisions(
    session: DatabaseSession, items: list[DecisionCreate], caller: Caller, *, loc: Callable[[int], Loc]
) -> list[DecisionJson]:
    """Record decisions, all or nothing: every refusal names the item (``loc(index)``) and field.
    Returns their JSON form (:data:`DecisionJson`), in order.

    However many there are, this costs one query for the references, one insert for the
    decisions and one for their first revisions.
    """
    now = utcnow()
    errors: list[FieldError] = []
    wanted: list[Reference] = []
    first_use: dict[tuple[str, str], int] = {}
    latest = _latest_allowed(session, now)
    for index, data in enumerate(items):
        prefix = loc(index)
        errors += _check_not_future(data.decided_at, latest, prefix, "decided_at")
        if data.expected_outcome is not None:
            errors += _check_review_by(data.expected_outcome.review_by, data.decided_at or now, prefix, changed=True)
        if data.budget_amount is not None and data.budget_currency is not None:
            errors += _check_budget(data.budget_amount, data.budget_currency, prefix, "budget_amount")
        wanted += _wanted(data, prefix)
        errors += _check_directed_by(data.owner, data.directed_by, prefix)
        if data.external_ref is not None:
            ref = (data.external_ref.system, data.external_ref.id)
            if ref in first_use:
                errors.append(
                    FieldError(
                        loc=[*prefix, "external_ref"],
                        type="duplicate_external_ref",
                        msg=f"external_ref repeats the one of item {first_use[ref]}",
                    )
                )
            first_use.setdefault(ref, index)
    # A row takes its owner's team when the body gives none, and its strategy's version in force: then the
    # registries are read first. Otherwise the insert itself checks that what the bodies name exists, and only
    # a refusal reads them, to name each unknown key (one round trip fewer for the usual write).
    if errors or any(
        data.team is None or data.strategy is not None or _needs_direction(data.expected_outcome) for data in items
    ):
        refs, unchecked = await _check_references(session, wanted, errors=errors), None
    else:
        refs, unchecked = repository.References.none(), _keys(wanted)
    rows = [new_row(data, refs, now, caller) for data in items]
    decisions = [decision_json(row) for row in rows]
    revisions = [
        _revision_row(
            row["id"],
            decision,
            RevisionKind.created,
            changed_at=now,
            caller=caller,
            reason=None,
            edited_by=None,
            changes={},
        )
        for row, decision in zip(rows, decisions, strict=True)
    ]
    entries = integrity.entries(session, _log_items(revisions))
    new = repository.NewDecisions(rows, revisions, entries, events.rows(_events(revisions), now))
    writer = repository.writer_of(session)
    written = await writer.insert_decisions(session, new, named=unchecked)
    if written is None:  # a key named was unknown when the insert looked, and nothing was written
        await _check_references(session, wanted)  # names it (422) …
        written = await writer.insert_decisions(session, new)  # … unless registered since
        assert written is not None  # without keys to check, the insert always answers
    if len(written) < len(rows):
        await _raise_duplicate_external_refs(session, items, rows, written, loc)
    await _report_contradictions(session, rows)
    classes = [row["basis_class"] for row in rows]
    session.after_commit(lambda: observability.count_decisions(classes))
    return decisions


def new_row(data: DecisionCreate, refs: repository.References, now: datetime, caller: Caller) -> dict[str, Any]:
    """The ``decision`` row recorded for ``data`` at ``now`` (also what a direct load of generated data writes)."""
    decided_at = data.decided_at or now
    basis_class, reason = classify(data.basis, len(data.evidence))
    fields = {name: getattr(data, name) for name in DecisionCreate.model_fields}
    fields["expected_outcome"] = _with_direction(data.expected_outcome, refs)
    values = _content_columns(fields)
    values.update(
        id=new_id(),
        team=data.team or refs.teams[data.owner],
        strategy_version=refs.strategy_version_at(data.strategy, decided_at) if data.strategy else None,
        decided_at=decided_at,
        basis_class=basis_class.value,
        classification_reason=reason.value,
        status=DecisionStatus.active.value,
        revision=1,
        recorded_at=now,
        recorded_by=caller.attribution,
        updated_at=now,
    )
    return values


async def _report_contradictions(session: DatabaseSession, rows: list[dict[str, Any]]) -> None:
    """A ``decision.contradiction`` event for each of these new or corrected decisions (their columns) that
    contradicts active ones, in the write's transaction. Only decisions whose expected outcome has a KPI and a
    direction can: the others cost nothing."""
    candidates = {row["id"]: row for row in rows if row.get("expected_kpi") and row.get("expected_direction")}
    if not candidates:
        return
    writer = repository.writer_of(session)
    found = await writer.contradicting(session, list(candidates))
    reported = [
        events.NewEvent(
            EventType.decision_contradiction,
            integrity.decision_entity(decision_id),
            {
                "decision": str(decision_id),
                "title": candidates[decision_id]["title"],
                "owner": candidates[decision_id]["owner_handle"],
                "kpi": candidates[decision_id]["expected_kpi"],
                "direction": candidates[decision_id]["expected_direction"],
                "contradicts": [str(other) for other in others],
            },
        )
        for decision_id, others in found.items()
    ]
    await writer.insert_events(session, events.rows(reported))


def _needs_direction(expected: ExpectedOutcome | None) -> bool:
    """Whether an expected outcome takes its direction from its KPI (read with the references)."""
    return expected is not None and expected.kpi is not None and expected.direction is None


def _with_direction(expected: ExpectedOutcome | None, refs: repository.References) -> ExpectedOutcome | None:
    """The expected outcome with its direction: as sent, else its KPI's when the KPI has one."""
    if expected is None or not _needs_direction(expected):
        return expected
    direction = refs.kpis.get(expected.kpi or "")
    return expected if direction is None else expected.model_copy(update={"direction": KpiDirection(direction)})


async def _raise_duplicate_external_refs(
    session: DatabaseSession,
    items: list[DecisionCreate],
    rows: list[dict[str, Any]],
    written: set[uuid.UUID],
    loc: Callable[[int], Loc],
) -> None:
    clashes = [
        (index, data.external_ref)
        for index, (data, row) in enumerate(zip(items, rows, strict=True))
        if row["id"] not in written and data.external_ref is not None
    ]
    refs = [(ref.system, ref.id) for _, ref in clashes]
    existing = await repository.writer_of(session).ids_by_external_ref(session, refs)
    errors = [
        FieldError(
            loc=[*loc(index), "external_ref"],
            type="duplicate_external_ref",
            msg=f"external_ref {ref.system}/{ref.id} is already used by decision {existing.get((ref.system, ref.id))}",
        )
        for index, ref in clashes
    ]
    first_ref = clashes[0][1]
    raise DuplicateExternalRef(
        _summary(errors), errors=errors, existing_id=str(existing.get((first_ref.system, first_ref.id)))
    )


async def _insert_history(session: DatabaseSession, revisions: list[dict[str, Any]]) -> None:
    """A change's revision rows, and their entries in the tamper-evident log (one statement each, however
    many decisions). New decisions are written with theirs by ``DecisionWriter.insert_decisions``."""
    await repository.insert_revisions(session, revisions)
    await integrity.record_many(session, _log_items(revisions))
    await events.emit(session, *_events(revisions))


# The event each kind of revision reports (a creation's is written with the decision by its writer).
EVENT_OF = {
    RevisionKind.created.value: EventType.decision_recorded,
    RevisionKind.edited.value: EventType.decision_corrected,
    RevisionKind.reversed.value: EventType.decision_reversed,
    RevisionKind.superseded.value: EventType.decision_reversed,
    RevisionKind.outcome_recorded.value: EventType.decision_outcome_recorded,
}


def _events(revisions: list[dict[str, Any]]) -> list[events.NewEvent]:
    """The events of these revisions: the decision as it now stands and the revision's fields (who, why, what
    changed)."""
    return [
        events.NewEvent(
            EVENT_OF[r["kind"]],
            integrity.decision_entity(r["decision_id"]),
            {"decision": r["snapshot"], **revision_fields(r)},
        )
        for r in revisions
    ]


def _log_items(revisions: list[dict[str, Any]]) -> list[integrity.LogItem]:
    """The tamper-evident log's entries for these revisions: what happened, to which decision, its new state and
    the revision row's own fields."""
    return [
        integrity.LogItem(
            f"decision.{r['kind']}", integrity.decision_entity(r["decision_id"]), r["snapshot"], revision_fields(r)
        )
        for r in revisions
    ]


def revision_fields(revision: Mapping[str, Any]) -> dict[str, Any]:
    """A revision row's fields besides its snapshot, as the tamper-evident log binds them: what
    ``GET /v1/decisions/{id}/revisions`` shows of it besides ``decision``. From the row being written or read."""
    return {
        "revision": revision["revision"],
        "kind": revision["kind"],
        "changed_at": format_utc(revision["changed_at"]),
        "changed_by": revision["changed_by"],
        "recorded_by": revision["recorded_by"],
        "edited_by": revision["edited_by"],
        "reason": revision["reason"],
        "changes": revision["changes"],
    }


def _revision_row(
    decision_id: uuid.UUID,
    snapshot: DecisionJson,
    kind: RevisionKind,
    *,
    changed_at: datetime,
    caller: Caller,
    reason: str | None,
    edited_by: str | None,
    changes: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "decision_id": decision_id,
        "revision": snapshot["revision"],
        "kind": kind.value,
        "changed_at": changed_at,
        "changed_by": caller.name,
        "recorded_by": caller.attribution,
        "edited_by": edited_by,
        "reason": reason,
        "changes": changes,
        "snapshot": snapshot,
    }


async def get_decision(session: DatabaseSession, decision_id: uuid.UUID) -> DecisionRead:
    row = await repository.get(session, decision_id)
    if row is None:
        raise DecisionNotFound(f"No decision with id {decision_id}.")
    return to_read(row)


async def get_decision_detail(session: DatabaseSession, decision_id: uuid.UUID) -> DecisionDetail:
    """The decision with the ones it contradicts now (``GET /v1/decisions/{id}``)."""
    decision = await get_decision(session, decision_id)
    found = await contradictions.contradicting(session, [decision_id])
    return DecisionDetail(**dict(decision), contradicts=found.get(decision_id, []))


async def _current_for_change(
    session: DatabaseSession, decision_id: uuid.UUID, if_match: str | None
) -> tuple[AnyRow, DecisionRead]:
    row = await repository.get(session, decision_id, for_update=True)
    if row is None:
        raise DecisionNotFound(f"No decision with id {decision_id}.")
    current = to_read(row)
    check_if_match(if_match, etag(current))
    return row, current


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {name: {"from": before[name], "to": after[name]} for name in after if before.get(name) != after[name]}


async def _apply(
    session: DatabaseSession,
    row: AnyRow,
    current: DecisionRead,
    columns: dict[str, Any],
    kind: RevisionKind,
    *,
    caller: Caller,
    reason: str | None,
    edited_by: str | None,
    compare: list[str] | None = None,
) -> DecisionRead:
    """Write ``columns`` as the next revision, with its history entry. Nothing changes → nothing written."""
    now = utcnow()
    merged = {column.name: getattr(row, column.name) for column in repository.decision.c} | columns
    candidate = to_read(merged | {"revision": current.revision + 1, "updated_at": now})
    before = current.model_dump(mode="json")
    after = candidate.model_dump(mode="json")
    fields = compare or [f for f in after if f not in {"revision", "updated_at"}]
    changes = _diff({f: before[f] for f in fields}, {f: after[f] for f in fields})
    if not changes:
        return current
    values = columns | {"revision": current.revision + 1, "updated_at": now}
    if not await repository.update_decision(session, current.id, current.revision, values):
        raise Conflict("The decision changed while this request ran; read it again and retry.")
    await _insert_history(
        session,
        [
            _revision_row(
                current.id,
                after,
                kind,
                changed_at=now,
                caller=caller,
                reason=reason,
                edited_by=edited_by,
                changes=changes,
            )
        ],
    )
    session.after_commit(lambda: observability.count_change(kind.value))
    return candidate


async def update_decision(
    session: DatabaseSession, decision_id: uuid.UUID, data: DecisionUpdate, caller: Caller, if_match: str | None
) -> DecisionRead:
    row, current = await _current_for_change(session, decision_id, if_match)
    fields = data.changes()
    now = utcnow()
    errors = _check_not_future(data.decided_at, _latest_allowed(session, now), ["body"], "decided_at")
    wanted = _wanted(data, ["body"])
    if data.edited_by is not None:
        wanted.append(("person", data.edited_by, ["body"], ("edited_by",)))
    strategy = fields.get("strategy", current.strategy)
    decided_at = fields.get("decided_at", current.decided_at)
    if "decided_at" in fields:
        errors += _check_history(current, decided_at)
    if "decided_at" in fields or "expected_outcome" in fields:
        expected = fields.get("expected_outcome", current.expected_outcome)
        review_by = expected.review_by if expected is not None else None
        errors += _check_review_by(review_by, decided_at, ["body"], changed="expected_outcome" in fields)
    recompute_version = strategy is not None and ("strategy" in fields or "decided_at" in fields)
    if strategy is not None and recompute_version and "strategy" not in fields:
        wanted.append(("strategy", strategy, ["body"], ("strategy",)))
    amount = fields.get("budget_amount", current.budget_amount)
    currency = fields.get("budget_currency", current.budget_currency)
    if amount is not None and currency is not None and ("budget_amount" in fields or "budget_currency" in fields):
        # A currency stored before currencies were checked is named when a new amount meets it.
        known = money.minor_unit(currency) is not None
        field = "budget_amount" if "budget_amount" in fields and known else "budget_currency"
        errors += _check_budget(amount, currency, ["body"], field)
    if "owner" in fields or "directed_by" in fields:
        errors += _check_directed_by(
            fields.get("owner", current.owner), fields.get("directed_by", current.directed_by), ["body"]
        )
    refs = await _check_references(session, wanted, errors=errors)
    if (amount is None) != (currency is None):
        raise Unprocessable.field(
            ["body", "budget_currency" if amount is not None else "budget_amount"],
            "budget_amount and budget_currency go together: send both or neither",
        )
    if "expected_outcome" in fields:
        fields["expected_outcome"] = _with_direction(fields["expected_outcome"], refs)
    columns = _content_columns(fields)
    if "strategy" in fields or recompute_version:
        columns["strategy_version"] = refs.strategy_version_at(strategy, decided_at) if strategy else None
    basis = data.basis or current.basis
    evidence_count = len(data.evidence) if data.evidence is not None else len(current.evidence)
    basis_class, reason = classify(basis, evidence_count)
    columns |= {"basis_class": basis_class.value, "classification_reason": reason.value}
    corrected = await _apply(
        session,
        row,
        current,
        columns,
        RevisionKind.edited,
        caller=caller,
        reason=data.edit_reason,
        edited_by=data.edited_by,
    )
    if corrected.revision > current.revision and ("expected_outcome" in fields or "decided_at" in fields):
        expected = corrected.expected_outcome
        direction = expected.direction.value if expected and expected.direction else None
        await _report_contradictions(
            session,
            [
                {
                    "id": corrected.id,
                    "title": corrected.title,
                    "owner_handle": corrected.owner,
                    "expected_kpi": expected and expected.kpi,
                    "expected_direction": direction,
                }
            ],
        )
    return corrected


async def reverse_decision(
    session: DatabaseSession, decision_id: uuid.UUID, data: ReverseRequest, caller: Caller, if_match: str | None
) -> DecisionRead:
    if data.superseded_by is not None:
        # Before the decision's row is locked: the supersession writes a reference to the other decision, which
        # a concurrent supersession the other way holds locked while it waits for this lock.
        await repository.lock_supersession(session)
    row, current = await _current_for_change(session, decision_id, if_match)
    if current.status != DecisionStatus.active:
        raise DecisionNotActive(f"Decision {decision_id} is already {current.status.value}.")
    await _check_references(session, [("person", data.by, ["body"], ("by",))])
    if data.superseded_by is not None:
        if data.superseded_by == decision_id:
            raise Unprocessable.field(["body", "superseded_by"], "a decision cannot supersede itself")
        if not await repository.exists(session, data.superseded_by):
            raise UnknownReference.field(
                ["body", "superseded_by"], f"unknown decision {data.superseded_by}", "unknown_reference"
            )
        if await repository.superseded_through(session, data.superseded_by, decision_id):
            msg = (
                f"decision {data.superseded_by} is itself superseded by {decision_id}, directly or through others: "
                "superseding it back would make a cycle"
            )
            raise SupersessionCycle(msg, errors=[FieldError(loc=["body", "superseded_by"], msg=msg, type="cycle")])
    status = DecisionStatus.superseded if data.superseded_by else DecisionStatus.reversed
    columns = {
        "status": status.value,
        "reversal_reason": data.reason,
        "reversed_by": data.by,
        "reversed_at": utcnow(),
        "superseded_by": data.superseded_by,
    }
    kind = RevisionKind.superseded if data.superseded_by else RevisionKind.reversed
    return await _apply(
        session,
        row,
        current,
        columns,
        kind,
        caller=caller,
        reason=data.reason,
        edited_by=data.by,
        compare=["status", "reversal"],
    )


async def record_outcome(
    session: DatabaseSession, decision_id: uuid.UUID, data: OutcomeCreate, caller: Caller, if_match: str | None
) -> DecisionRead:
    row, current = await _current_for_change(session, decision_id, if_match)
    if current.outcome is not None:
        raise OutcomeAlreadyRecorded(f"Decision {decision_id} already has an outcome review.")
    now = utcnow()
    reviewed_at = data.reviewed_at or now
    errors = _check_not_future(reviewed_at, _latest_allowed(session, now), ["body"], "reviewed_at")
    if reviewed_at < current.decided_at:
        errors.append(
            FieldError(
                loc=["body", "reviewed_at"], msg="must not precede the decision's decided_at", type="value_error"
            )
        )
    if data.cause is not None and data.result not in (OutcomeResult.partial, OutcomeResult.failure):
        msg = f"is given only with result partial or failure, not {data.result.value}"
        errors.append(FieldError(loc=["body", "cause"], msg=msg, type="value_error.cause"))
    reviewed_by = data.reviewed_by or caller.person
    if reviewed_by is None:
        errors.append(
            FieldError(
                loc=["body", "reviewed_by"],
                msg="required: this API key belongs to no person, so the review must name its reviewer",
                type="missing",
            )
        )
        raise Unprocessable(_summary(errors), errors=errors)
    await _check_references(session, [("person", reviewed_by, ["body"], ("reviewed_by",))], errors=errors)
    columns = {
        "outcome_result": data.result.value,
        "outcome_notes": data.notes,
        "outcome_actual_value": data.actual_value,
        "outcome_reviewed_by": reviewed_by,
        "outcome_reviewed_at": reviewed_at,
        "outcome_recorded_at": now,
        "outcome_cause": data.cause.value if data.cause else None,
        "outcome_target_met": target_met(current.expected_outcome, data.actual_value),
    }
    return await _apply(
        session,
        row,
        current,
        columns,
        RevisionKind.outcome_recorded,
        caller=caller,
        reason=data.notes,
        edited_by=reviewed_by,
        compare=["outcome"],
    )


def target_met(expected: Any, actual: float | None) -> bool | None:
    """Whether ``actual`` is at or beyond the expected outcome's target in its direction; None when the outcome
    names no KPI, target or direction, or there is no actual value."""
    if expected is None or expected.kpi is None or expected.target_value is None or actual is None:
        return None
    if expected.direction is None:
        return None
    if expected.direction == KpiDirection.increase:
        return bool(actual >= expected.target_value)
    return bool(actual <= expected.target_value)


async def list_decisions(
    session: DatabaseSession, filters: DecisionFilters, *, limit: int, cursor: str | None
) -> tuple[list[DecisionRead], str | None]:
    rows, next_cursor = await repository.list_page(session, filters, limit=limit, cursor=cursor)
    return [to_read(row) for row in rows], next_cursor


async def list_revisions(
    session: DatabaseSession, decision_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[DecisionRevisionRead], str | None]:
    if not await repository.exists(session, decision_id):
        raise DecisionNotFound(f"No decision with id {decision_id}.")
    rows, next_cursor = await repository.revisions_page(session, decision_id, limit=limit, cursor=cursor)
    items = [
        DecisionRevisionRead.model_validate(
            {
                "revision": row.revision,
                "kind": row.kind,
                "changed_at": row.changed_at,
                "changed_by": row.changed_by,
                "recorded_by": row.recorded_by,
                "edited_by": row.edited_by,
                "reason": row.reason,
                "changes": _answer_changes(row.changes),
                "decision": row.snapshot,
            }
        )
        for row in rows
    ]
    return items, next_cursor


@dataclass(frozen=True, slots=True)
class DecisionHistory:
    """A decision with every revision (oldest first) and the decisions it superseded (the other way of
    ``reversal.superseded_by``)."""

    decision: DecisionRead
    revisions: list[DecisionRevisionRead]
    supersedes: list[DecisionRead]


MAX_REVISIONS_SHOWN = 500


async def decision_history(session: DatabaseSession, decision_id: uuid.UUID) -> DecisionHistory:
    decision = await get_decision_detail(session, decision_id)
    revisions, _ = await list_revisions(session, decision_id, limit=MAX_REVISIONS_SHOWN, cursor=None)
    supersedes = [to_read(row) for row in await repository.superseded_by(session, decision_id)]
    return DecisionHistory(decision=decision, revisions=revisions, supersedes=supersedes)


def _answer_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A revision's changes as answered: a change of amount from and to exact Decimals (logged in their JSON
    form, :func:`app.core.money.json_value`)."""
    budget = changes.get("budget_amount")
    if budget is None:
        return changes
    exact = {side: money.stored_amount(budget.get(side)) for side in ("from", "to")}
    return {**changes, "budget_amount": exact}
