"""Rendering the pages: one Jinja2 environment per language (autoescaped, gettext from the catalogues), static
files by content-hashed URL, and the route class that turns failures into pages rather than problem+json."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import QueryParams

from app.core.errors import AppError
from app.core.routing import TransactionalRoute
from app.web import changes, i18n, labels
from app.web.errors import SignInRequired
from app.web.session import LANG_COOKIE, csrf_of, keep_form_token, sign_in_url

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PREFIX = "/ui/static"


@functools.cache
def _static_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of a static file, with its content's hash: cached for good by browsers, and new when it changes."""
    return f"{STATIC_PREFIX}/{name}?v={_static_version(name)}"


def with_query(params: QueryParams | Mapping[str, Any], **changes: Any) -> str:
    """``?query`` of ``params`` with ``changes`` (None removes a parameter)."""
    merged = {k: v for k, v in params.items()}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "?" + urlencode(merged) if merged else "?"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalogue = i18n.translations(language)
    env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
    formats = i18n.Formats(language)
    env.globals.update(
        translated=catalogue.gettext,  # a message known only at run time (the service's), never %-formatted
        static_url=static_url,
        with_query=with_query,
        fmt=formats,
        lang=language,
        languages=i18n.NAMES,
    )
    label = labels.labeller(catalogue.gettext)
    env.filters.update(
        choice=_choice,
        label=label,
        options=labels.options(label),
        changed=functools.partial(changes.changed, gettext=catalogue.gettext, label=label, moment=formats.moment),
    )
    return env


def _choice(item: Any, key: str, label: str) -> tuple[str, str]:
    """A select's option for a registry entry: its key, labelled by its name and key."""
    return getattr(item, key), f"{getattr(item, label)} ({getattr(item, key)})"


def language_of(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200) -> Response:
    language = language_of(request)
    page = environment(language).get_template(template)
    html = page.render(
        request=request,
        path=request.url.path,
        query=request.query_params,
        viewer=getattr(request.state, "page_session", None),
        csrf=csrf_of(request),
        **(context or {}),
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/")
    keep_form_token(request, response)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class PageRoute(TransactionalRoute):
    """A page: in the request's transaction like an API route; a missing session leads to the sign-in page (303),
    and a refusal or a fault is shown as a page in the reader's language, after the transaction rolled back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as missing:
                return redirect(sign_in_url(missing.next_url))
            except AppError as error:
                return error_page(request, error.status, error.title, error.detail, headers=error.headers)
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                where = ".".join(str(part) for part in first.get("loc", ())[1:])
                detail = f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
                return error_page(request, 422, "Request is not valid", detail)

        return run


def error_page(
    request: Request, status: int, title: str, detail: str | None, *, headers: Mapping[str, str] | None = None
) -> Response:
    response = render(request, "error.html", {"status": status, "title": title, "detail": detail}, status=status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
