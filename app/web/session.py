"""Signing in to the pages: the session cookie, CSRF tokens, safe redirects, and the page's viewer.

- The session cookie holds a random token (its hash is in the database, app/auth/sessions.py); it is
  HttpOnly, SameSite=Lax, ``Secure`` when the page is served over https, and lives no longer than the session.
- CSRF: every form that changes something carries a synchronizer token bound to the session, an HMAC of the
  session's token (so nothing more is stored, and it changes with each session); the sign-in and set-up forms,
  which come before any session, use a double-submit token in a cookie of their own (SameSite=Strict).
- ``next`` after signing in is only ever a path of the pages (``/ui…``): never another site.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response

from app.auth import sessions
from app.auth.scopes import Scope
from app.auth.sessions import PageSession
from app.core.config import Settings
from app.core.errors import Forbidden
from app.core.routing import request_session
from app.web.errors import CsrfRefused, SignInRequired

SESSION_COOKIE = "dl_session"
FORM_COOKIE = "dl_form"  # the double-submit token of the forms that come before a session
LANG_COOKIE = "lang"
CSRF_FIELD = "csrf_token"
HOME = "/ui/"


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from its token, so it is bound to it and never stored."""
    return hmac.new(session_token.encode(), b"decision-log csrf v1", hashlib.sha256).hexdigest()


def check_csrf(expected: str | None, given: str | None) -> None:
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfRefused("The form was not sent from this session's page (or the session ended): open it again.")


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def form_token(request: Request) -> str:
    """The pre-session double-submit token: the cookie's, or a new one (set by :func:`keep_form_token`)."""
    existing = request.cookies.get(FORM_COOKIE)
    if existing and len(existing) <= 64:
        return existing
    token: str | None = getattr(request.state, "new_form_token", None)
    if token is None:
        token = request.state.new_form_token = secrets.token_urlsafe(32)
    return token


def keep_form_token(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_form_token", None)
    if token is not None:
        response.set_cookie(
            FORM_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/ui/", max_age=3600
        )


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str, page_session: PageSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
        expires=page_session.expires_at,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure(request))


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of the pages, else the overview (no other host, no scheme, no
    protocol-relative ``//host`` or ``/\\host``, no control characters)."""
    if not value or len(value) > 2000 or any(ord(c) < 32 or c == "\\" for c in value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or value.startswith("//"):
        return HOME
    if parts.path not in ("/ui", "/ui/") and not parts.path.startswith("/ui/"):
        return HOME
    return value


def sign_in_url(next_url: str) -> str:
    return "/ui/sign-in?next=" + quote(safe_next(next_url), safe="/")


def here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def current_session(request: Request) -> PageSession | None:
    """The request's signed-in session, or None: the session cookie's, else the user an authenticating proxy
    names (single sign-on), when the service is set up to believe it."""
    if hasattr(request.state, "page_session"):
        return request.state.page_session  # type: ignore[no-any-return]
    database = request_session(request)
    token = session_token(request)
    found = await sessions.resolve(database, token) if token else None
    secret = token or ""
    if found is None:
        identity = proxy_identity(request, database.settings)
        if identity is not None:
            found = await sessions.from_proxy(database, identity)
            if found is None:
                raise Forbidden(
                    f"You are signed in as {identity!r}, but no person with a working API key answers to that "
                    "handle or e-mail in the decision log: ask an administrator for a key bound to you."
                )
            secret = found.csrf_secret
    request.state.page_session = found
    if found is not None:
        request.state.caller = found.caller  # the request log names the key, as for the API
        request.state.csrf = csrf_token(secret)
    return found


def proxy_identity(request: Request, settings: Settings) -> str | None:
    """The user the authenticating proxy names, when the connection comes from one of the proxies the settings
    trust (``DECISION_LOG_TRUSTED_USER_PROXIES``); the header is ignored from anywhere else."""
    if not settings.trusted_user_header or not settings.trusted_user_proxies:
        return None
    value = request.headers.get(settings.trusted_user_header, "").strip()
    if not value or len(value) > 320:
        return None
    peer = getattr(request.state, "peer", None) or (request.client.host if request.client else None)
    if peer is None or not _trusted(peer, settings.trusted_user_proxies):
        return None
    return value


def _trusted(peer: str, proxies: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for proxy in proxies:
        try:
            if address in ipaddress.ip_network(proxy, strict=False):
                return True
        except ValueError:
            continue
    return False


def require(needed: Scope) -> Callable[[Request], Awaitable[PageSession]]:
    """The page's viewer: a signed-in session whose key allows ``needed`` (else 303 to sign in, or 403)."""

    async def dependency(request: Request) -> PageSession:
        found = await current_session(request)
        if found is None:
            raise SignInRequired(here(request))
        if not found.caller.scope.allows(needed):
            held = found.caller.scope.value
            raise Forbidden(f"This page needs a key with the `{needed.value}` scope; you signed in with `{held}`.")
        return found

    return dependency


def csrf_of(request: Request) -> str:
    """The CSRF token the request's session expects (after :func:`current_session`)."""
    return getattr(request.state, "csrf", "")


Analyst = Annotated[PageSession, Depends(require(Scope.analytics))]
Reader = Annotated[PageSession, Depends(require(Scope.read))]
Writer = Annotated[PageSession, Depends(require(Scope.write))]
Administrator = Annotated[PageSession, Depends(require(Scope.admin))]
