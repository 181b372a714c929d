"""What a revision changed, as a reader follows it: one row per changed value, nested fields named by their path
("Outcome, then Result"; "Evidence 2, then Reference"), values as text rather than JSON.

The API's ``changes`` (``{field: {from, to}}``) holds whole values: a changed ``outcome`` or ``expected_outcome`` is
two objects, ``evidence`` two lists. Here they are compared member by member, so only what differs is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.decisions.classification import Basis
from app.decisions.schemas import Category, DecisionStatus, OutcomeResult
from app.kpis.schemas import KpiDirection, KpiKind
from app.web.i18n import N_

FIELDS = {
    "title": N_("Title"),
    "rationale": N_("Rationale"),
    "description": N_("Description"),
    "basis": N_("Basis"),
    "evidence": N_("Evidence"),
    "owner": N_("Owner"),
    "participants": N_("Participants"),
    "team": N_("Team"),
    "channel": N_("Channel"),
    "category": N_("Category"),
    "budget_amount": N_("Budget"),
    "budget_currency": N_("Currency"),
    "strategy": N_("Strategy"),
    "kpis": N_("KPIs"),
    "tags": N_("Tags"),
    "decided_at": N_("Decided"),
    "expected_outcome": N_("Expected outcome"),
    "outcome": N_("Outcome"),
    "external_ref": N_("External reference"),
    "status": N_("Status"),
    "reversal": N_("Reversal"),
    "name": N_("Name"),
    "unit": N_("Unit"),
    "kind": N_("Kind"),
    "target": N_("Target"),
    "target_value": N_("Target"),
    "direction": N_("Direction"),
    "kpi": N_("KPI"),
    "review_by": N_("Review by"),
    "result": N_("Result"),
    "actual_value": N_("Actual value"),
    "notes": N_("Notes"),
    "reviewed_by": N_("Reviewed by"),
    "reviewed_at": N_("Reviewed at"),
    "recorded_at": N_("Recorded"),
    "source": N_("Source"),
    "reference": N_("Reference"),
    "metric": N_("Metric"),
    "value": N_("Value"),
    "note": N_("Note"),
    "reason": N_("Reason"),
    "by": N_("By"),
    "at": N_("When"),
    "superseded_by": N_("Superseded by"),
    "system": N_("System"),
    "id": N_("Id"),
}
# Members whose values are codes, shown by their labels (app.web.labels).
CODES: dict[str, type[StrEnum]] = {
    "basis": Basis,
    "category": Category,
    "status": DecisionStatus,
    "result": OutcomeResult,
    "direction": KpiDirection,
    "kind": KpiKind,
}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")  # as the API writes them (UTC)
SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "


@dataclass(frozen=True, slots=True)
class Change:
    field: str  # its path, labelled
    before: str
    after: str


Label = Callable[[StrEnum | None], str]


def changed(
    changes: Mapping[str, Any], gettext: Callable[[str], str], label: Label, moment: Callable[[datetime], str]
) -> list[Change]:
    """The rows of a revision's ``changes`` (each a ``RevisionChange`` or ``KpiChange``: ``from_`` and ``to``),
    nested values compared member by member, codes by their labels, moments in the reader's way."""
    rows: list[Change] = []
    names = _Names(gettext, label, moment)
    for field, change in changes.items():
        names.compare([field], change.from_, change.to, rows)
    return rows


@dataclass(frozen=True, slots=True)
class _Names:
    gettext: Callable[[str], str]
    label: Label
    moment: Callable[[datetime], str]

    def name(self, field: str) -> str:
        message = FIELDS.get(field)
        return self.gettext(message) if message is not None else field

    def compare(self, path: list[str | int], before: Any, after: Any, rows: list[Change]) -> None:
        """``path``: the field names down to these values (the last may carry an item's number)."""
        if before == after:
            return
        if isinstance(before, Mapping) or isinstance(after, Mapping):  # set, changed or cleared: member by member
            before, after = before or {}, after or {}
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            for key in [*before, *(k for k in after if k not in before)]:
                self.compare([*path, key], before.get(key), after.get(key), rows)
            return
        if _records(before) or _records(after):  # lists of objects (evidence): item by item
            before, after = before or [], after or []
            for index in range(max(len(before), len(after))):
                self.compare(
                    [*path, index + 1],
                    before[index] if index < len(before) else None,
                    after[index] if index < len(after) else None,
                    rows,
                )
            return
        code = CODES.get(next((part for part in reversed(path) if isinstance(part, str)), ""))
        rows.append(Change(self.path(path), self.text(before, code), self.text(after, code)))

    def path(self, path: list[str | int]) -> str:
        names: list[str] = []
        for part in path:
            if isinstance(part, int):  # an item of the list named before it
                names[-1] = f"{names[-1]} {part}"
            else:
                names.append(self.name(part))
        return SEPARATOR.join(names)

    def text(self, value: Any, code: type[StrEnum] | None = None) -> str:
        if code is not None and isinstance(value, str) and value in code.__members__.values():
            return self.label(code(value))
        if isinstance(value, str) and TIMESTAMP.fullmatch(value):
            return self.moment(datetime.fromisoformat(value))
        return _text(value)


def _records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value) and bool(value)


def _text(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list) and all(not isinstance(item, Mapping | list) for item in value):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items() if item is not None)
    if isinstance(value, list):
        return "; ".join(_text(item) for item in value)
    return str(value)
