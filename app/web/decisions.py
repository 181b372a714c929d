"""The decision pages: the list, a decision, and the forms that record, correct, review and reverse decisions.

Each handler parses, calls one service function (the API's) and renders. A refused form is shown again with a
message beside each field, and nothing of it is written: the write runs in a savepoint of the request's
transaction, undone when the service refuses it.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from app.auth.scopes import Scope
from app.auth.sessions import PageSession
from app.core import csv
from app.core.errors import AppError, PreconditionFailed
from app.core.routing import SessionDep
from app.core.types import utcnow
from app.core.unit_of_work import savepoint
from app.decisions import service as decisions
from app.decisions.classification import Basis, BasisClass
from app.decisions.dependencies import FiltersDep
from app.decisions.rationale_signals import Signal
from app.decisions.registries import registries
from app.decisions.schemas import (
    Category,
    DecisionCreate,
    DecisionRead,
    DecisionStatus,
    DecisionUpdate,
    OutcomeCause,
    OutcomeCreate,
    OutcomeResult,
    ReverseRequest,
    ReviewState,
)
from app.exports.service import DECISION_COLUMNS
from app.idempotency import service as idempotency
from app.web import forms
from app.web.rendering import PageRoute, language_of, redirect, render
from app.web.session import CSRF_FIELD, Reader, Writer, check_csrf, csrf_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 50


# --- the list -------------------------------------------------------------------------------------------------


@router.get("/ui/decisions")
async def decisions_page(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    filters: FiltersDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    items, next_cursor = await decisions.list_decisions(session, filters, limit=PAGE_SIZE, cursor=cursor)
    return render(
        request,
        "decisions.html",
        {
            "items": items,
            "next_cursor": next_cursor,
            "filters": filters,
            "categories": list(Category),
            "bases": list(Basis),
            "classes": list(BasisClass),
            "statuses": list(DecisionStatus),
            "reviews": list(ReviewState),
            "signals": list(Signal),
            "day": _day_of,
            "filtered": any(v is not None for v in dataclasses.asdict(filters).values()),
            "can_write": _can_write(viewer),
        },
    )


@router.get("/ui/decisions.csv")
async def decisions_csv(
    session: SessionDep,
    viewer: Reader,
    filters: FiltersDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The page of decisions the list shows, as CSV (the export's columns)."""
    items, _ = await decisions.list_decisions(session, filters, limit=PAGE_SIZE, cursor=cursor)
    rows = [item.model_dump(mode="json") for item in items]
    return csv.response(DECISION_COLUMNS, rows, bom=True, filename="decisions")


def _day_of(value: datetime | None) -> str:
    """A filter's timestamp as a date input shows it."""
    return value.date().isoformat() if value else ""


def _can_write(viewer: PageSession) -> bool:
    return viewer.caller.scope.allows(Scope.write)


# --- recording a decision ---------------------------------------------------------------------------------------


def _form_context(request: Request, values: forms.Values, errors: forms.FormErrors, **extra: Any) -> dict[str, Any]:
    rows = max(
        forms.EVIDENCE_ROWS,
        1 + max((int(name.split(".")[1]) for name in values if name.startswith("evidence.")), default=-1),
    )
    return {
        "values": values,
        "errors": errors.fields,
        "evidence_rows": range(rows + (1 if "add_evidence" in values else 0)),
        "alternative_rows": range(
            max(
                forms.ALTERNATIVE_ROWS,
                1 + max((int(name.split(".")[1]) for name in values if name.startswith("alternatives.")), default=-1),
            )
        ),
        "categories": list(Category),
        "bases": list(Basis),
        "local_input": forms.local_input,
        **extra,
    }


@router.get("/ui/decisions/new")
async def new_decision_page(request: Request, session: SessionDep, viewer: Writer) -> Response:
    values: forms.Values = {
        "owner": viewer.caller.person or "",
        "decided_at": forms.local_input(utcnow()),
        "idempotency_key": secrets.token_urlsafe(16),
    }
    context = _form_context(request, values, forms.FormErrors(), registries=await registries(session))
    return render(request, "decision_form.html", {**context, "decision": None})


@router.post("/ui/decisions")
async def record_decision(request: Request, session: SessionDep, viewer: Writer) -> Response:
    form = await _form(request)
    check_csrf(csrf_of(request), str(form.get(CSRF_FIELD, "")))
    values = forms.values_of(form)
    language = language_of(request)
    errors = forms.FormErrors()
    body = forms.decision_body(values, errors, language)
    rows = body.pop("_evidence_rows")
    if "add_evidence" not in values and not errors:
        try:
            data = DecisionCreate.model_validate(body)
        except ValidationError as invalid:
            forms.from_validation(invalid, errors, language, rows)
        else:
            try:
                async with savepoint(session):
                    if values.get("idempotency_key"):
                        await idempotency.claim(request, values["idempotency_key"][:255])
                    created = await decisions.create_decision(session, data, viewer.caller)
            except AppError as refused:
                request.state.idempotency = None
                forms.from_problem(refused.errors, refused.detail or refused.title, errors, language, rows)
            else:
                return redirect(f"/ui/decisions/{created['id']}?recorded=1")
    context = _form_context(request, values, errors, registries=await registries(session))
    return render(request, "decision_form.html", {**context, "decision": None}, status=422 if errors else 200)


# --- a decision, and correcting it --------------------------------------------------------------------------------


@router.get("/ui/decisions/{decision_id}")
async def decision_page(request: Request, session: SessionDep, viewer: Reader, decision_id: uuid.UUID) -> Response:
    history = await decisions.decision_history(session, decision_id)
    return render(
        request,
        "decision.html",
        {
            "d": history.decision,
            "h": history,
            "web_link": _web_link,
            "can_write": _can_write(viewer),
            "etag": decisions.etag(history.decision),
            "reviewer": viewer.caller.person or "",
            "results": list(OutcomeResult),
            "causes": list(OutcomeCause),
            "recorded": request.query_params.get("recorded") == "1",
        },
    )


async def _form(request: Request) -> Any:
    """The form sent, its body read first (kept for the idempotency key's fingerprint)."""
    await request.body()
    return await request.form()


def _web_link(reference: str) -> bool:
    """Whether an evidence reference is a link a reader may follow (http or https only: never ``javascript:``)."""
    return reference.startswith(("https://", "http://")) and " " not in reference


@router.get("/ui/decisions/{decision_id}/edit")
async def edit_decision_page(request: Request, session: SessionDep, viewer: Writer, decision_id: uuid.UUID) -> Response:
    decision = await decisions.get_decision(session, decision_id)
    values = forms.decision_values(decision)
    values |= {"etag": decisions.etag(decision), "edited_by": viewer.caller.person or ""}
    context = _form_context(request, values, forms.FormErrors(), registries=await registries(session))
    return render(request, "decision_form.html", {**context, "decision": decision, "conflict": None})


@router.post("/ui/decisions/{decision_id}/edit")
async def correct_decision(request: Request, session: SessionDep, viewer: Writer, decision_id: uuid.UUID) -> Response:
    form = await _form(request)
    check_csrf(csrf_of(request), str(form.get(CSRF_FIELD, "")))
    values = forms.values_of(form)
    language = language_of(request)
    errors = forms.FormErrors()
    current = await decisions.get_decision(session, decision_id)
    shown = forms.decision_body(forms.decision_values(current), forms.FormErrors(), language)
    submitted = forms.decision_body(values, errors, language)
    rows = submitted.pop("_evidence_rows")
    conflict: DecisionRead | None = None
    if "add_evidence" not in values and not errors:
        changes = forms.changed_fields(submitted, shown)
        reason = {"edit_reason": values.get("edit_reason") or None, "edited_by": values.get("edited_by") or None}
        try:
            data = DecisionUpdate.model_validate({**changes, **reason})
        except ValidationError as invalid:
            forms.from_validation(invalid, errors, language, rows)
        else:
            try:
                async with savepoint(session):
                    await decisions.update_decision(session, decision_id, data, viewer.caller, values.get("etag"))
            except PreconditionFailed:
                conflict = current
                values["etag"] = decisions.etag(current)
                errors.add("", "")
            except AppError as refused:
                forms.from_problem(refused.errors, refused.detail or refused.title, errors, language, rows)
            else:
                return redirect(f"/ui/decisions/{decision_id}")
    context = _form_context(request, values, errors, registries=await registries(session))
    status = 409 if conflict else 422 if errors else 200
    return render(request, "decision_form.html", {**context, "decision": current, "conflict": conflict}, status=status)


# --- its outcome and its reversal -------------------------------------------------------------------------------


@router.post("/ui/decisions/{decision_id}/outcome")
async def record_outcome(request: Request, session: SessionDep, viewer: Writer, decision_id: uuid.UUID) -> Response:
    return await _act(
        request,
        session,
        decision_id,
        texts=("result", "cause", "notes", "reviewed_by"),
        numbers=("actual_value",),
        moments=("reviewed_at",),
        schema=OutcomeCreate,
        action=lambda data, etag: decisions.record_outcome(session, decision_id, data, viewer.caller, etag),
    )


@router.post("/ui/decisions/{decision_id}/reverse")
async def reverse_decision(request: Request, session: SessionDep, viewer: Writer, decision_id: uuid.UUID) -> Response:
    return await _act(
        request,
        session,
        decision_id,
        texts=("reason", "by", "superseded_by"),
        numbers=(),
        moments=(),
        schema=ReverseRequest,
        action=lambda data, etag: decisions.reverse_decision(session, decision_id, data, viewer.caller, etag),
    )


async def _act(
    request: Request,
    session: Any,
    decision_id: uuid.UUID,
    *,
    texts: tuple[str, ...],
    numbers: tuple[str, ...],
    moments: tuple[str, ...],
    schema: Any,
    action: Callable[[Any, str | None], Awaitable[Any]],
) -> Response:
    """Send a small form (outcome, reversal) to its service function with the ETag it was shown with; the
    decision page again with the refusals beside the fields, or the decision once done."""
    form = await _form(request)
    check_csrf(csrf_of(request), str(form.get(CSRF_FIELD, "")))
    values = forms.values_of(form, multiple=())
    body: dict[str, Any] = {name: values[name] for name in texts if values.get(name)}
    language = language_of(request)
    errors = forms.FormErrors()
    gettext_errors = forms.FormErrors()
    for name in numbers:
        if values.get(name):
            body[name] = forms.parse_number(values[name], name, gettext_errors, language)
    for name in moments:
        if values.get(name):
            body[name] = forms.moment(values[name])
    errors.fields.update(gettext_errors.fields)
    conflict = False
    if not errors:
        try:
            data = schema.model_validate(body)
        except ValidationError as invalid:
            forms.from_validation(invalid, errors, language, ())
        else:
            try:
                async with savepoint(session):
                    await action(data, values.get("etag"))
            except PreconditionFailed:
                conflict = True
                errors.add("", "")
            except AppError as refused:
                forms.from_problem(refused.errors, refused.detail or refused.title, errors, language, ())
            else:
                return redirect(f"/ui/decisions/{decision_id}")
    history = await decisions.decision_history(session, decision_id)
    context = {
        "d": history.decision,
        "h": history,
        "web_link": _web_link,
        "can_write": True,
        "etag": decisions.etag(history.decision),
        "reviewer": values.get("reviewed_by", ""),
        "results": list(OutcomeResult),
        "causes": list(OutcomeCause),
        "recorded": False,
        "form_values": values,
        "form_errors": errors.fields,
        "action_conflict": conflict,
        "failed_form": request.url.path.rsplit("/", 1)[-1],
    }
    return render(request, "decision.html", context, status=409 if conflict else 422)
