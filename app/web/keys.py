"""The API keys page (administrators): every key with whom it belongs to, its scope and whether it still works; a
form to give a colleague a key of their own (shown once); revoking one. The API's functions do the work."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from app.auth import service as keys
from app.auth.schemas import ApiKeyCreate
from app.auth.scopes import Scope
from app.core.errors import AppError, NotFound
from app.core.pagination import MAX_LIMIT
from app.core.routing import SessionDep
from app.core.types import utcnow
from app.core.unit_of_work import savepoint
from app.people import service as people
from app.web import forms
from app.web.i18n import N_, translations
from app.web.rendering import PageRoute, language_of, redirect, render
from app.web.session import CSRF_FIELD, Administrator, check_csrf, csrf_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CsrfField = Annotated[str, Form(alias=CSRF_FIELD)]
MAX_DAYS = 3650


@router.get("/ui/keys")
async def keys_page(request: Request, session: SessionDep, viewer: Administrator) -> Response:
    return await _page(request, session, {}, forms.FormErrors())


@router.post("/ui/keys")
async def create_key(
    request: Request,
    session: SessionDep,
    viewer: Administrator,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    person: Annotated[str, Form()] = "",
    expires_in_days: Annotated[str, Form()] = "",
    form_csrf: CsrfField = "",
) -> Response:
    check_csrf(csrf_of(request), form_csrf)
    values = {"name": name.strip(), "scope": scope, "person": person, "expires_in_days": expires_in_days.strip()}
    language = language_of(request)
    errors = forms.FormErrors()
    body: dict[str, Any] = {"name": values["name"], "scope": scope, "person": person or None}
    days = values["expires_in_days"]
    if days:
        if days.isascii() and days.isdigit() and 1 <= int(days) <= MAX_DAYS:
            body["expires_at"] = utcnow() + timedelta(days=int(days))
        else:
            refusal = translations(language).gettext(N_("A whole number of days, from 1 to %(max)s."))
            errors.add("expires_in_days", refusal % {"max": MAX_DAYS})
    if not errors:
        try:
            data = ApiKeyCreate.model_validate(body)
        except ValidationError as invalid:
            forms.from_validation(invalid, errors, language, ())
        else:
            try:
                async with savepoint(session):
                    record, key = await keys.create_key(
                        session, name=data.name, scope=data.scope, person=data.person, expires_at=data.expires_at
                    )
            except AppError as refused:
                forms.from_problem(refused.errors, refused.detail or refused.title, errors, language, ())
            else:
                response = render(request, "key_created.html", {"record": record, "key": key})
                response.headers["Cache-Control"] = "no-store"  # the key is shown this once: no copy in a cache
                return response
    return await _page(request, session, values, errors, status=422)


@router.post("/ui/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, session: SessionDep, viewer: Administrator, key_id: uuid.UUID, form_csrf: CsrfField = ""
) -> Response:
    check_csrf(csrf_of(request), form_csrf)
    if await keys.revoke_key(session, str(key_id)) is None:
        raise NotFound(f"No API key with id {key_id}.")
    return redirect("/ui/keys")


async def _page(
    request: Request, session: Any, values: dict[str, str], errors: forms.FormErrors, *, status: int = 200
) -> Response:
    context = {
        "keys": await keys.list_keys(session),
        "people": (await people.list_people(session, team=None, active=True, limit=MAX_LIMIT, cursor=None))[0],
        "scopes": list(Scope),
        "now": utcnow(),
        "form_values": values,
        "form_errors": errors.fields,
        "max_days": MAX_DAYS,
    }
    return render(request, "keys.html", context, status=status)
