"""The errors of API keys, sign-in links and the rate limit: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import AppError, Forbidden, NotFound


class ApiKeyInUrlRefused(Forbidden):
    code = "api_key_in_url_refused"
    title = "This API key may not be sent in a URL"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"
    title = "Too many requests"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"


class SignInLinkNotUsable(Forbidden):
    code = "sign_in_link_not_usable"
    title = "Sign-in link not usable"
