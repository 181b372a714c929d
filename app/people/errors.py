"""The errors of people: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import NotFound


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = "Person not found"
