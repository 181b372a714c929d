"""The errors of the pages: a sign-in to go through first, and a form expired (403 with its problem code)."""

from __future__ import annotations

from app.core.errors import Forbidden


class SignInRequired(Exception):
    """No valid session: the page answers 303 to the sign-in page, which leads back to ``next``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRefused(Forbidden):
    code = "csrf_refused"
    title = "Form expired"
