"""The decision forms: a form's fields (named like the API's, ``evidence.0.source``) to the API's body and back, and
the API's refusals to messages beside each field, in the reader's language.

The body goes through the API's own schema and service, so a form is refused by exactly the API's rules; only
their wording is the pages' own, chosen by the error's type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.core.errors import FieldError
from app.core.types import format_utc
from app.decisions.schemas import DecisionRead
from app.web.i18n import N_, translations

EVIDENCE_ROWS = 3  # empty evidence rows a new form shows; "add a row" adds one more
MAX_EVIDENCE_ROWS = 100
DECISION_SCALARS = (
    "title",
    "description",
    "rationale",
    "basis",
    "owner",
    "team",
    "channel",
    "category",
    "budget_currency",
    "strategy",
    "contractor",
    "directed_by",
)
EVIDENCE_FIELDS = ("source", "reference", "metric", "value", "note")
OUTCOME_FIELDS = ("description", "kpi", "target_value", "review_by", "direction")
# Decision quality: the options considered (rows of `alternatives.N.title` and `.reason_rejected`), the data's
# recommendation (`data_recommendation.option`, `.followed` = "true"/"false") and the owner's `confidence` (0 to 1).
ALTERNATIVE_ROWS = 3
MAX_ALTERNATIVE_ROWS = 21  # one more than the API takes, so that the API's own limit refuses it
ALTERNATIVE_FIELDS = ("title", "reason_rejected")

# Form values: a field's text, or the texts of a multiple choice.
Values = dict[str, Any]


@dataclass(slots=True)
class FormErrors:
    """Messages by field name (``""`` for the form as a whole), already in the reader's language."""

    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields)


def values_of(form: FormData, multiple: Iterable[str] = ("participants", "kpis")) -> Values:
    """The submitted values: text fields stripped, multiple choices as lists."""
    values: Values = {}
    for name in form:
        if name in multiple:
            values[name] = [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]
        else:
            raw = form.get(name)
            values[name] = raw.strip() if isinstance(raw, str) else ""
    return values


def _number(text: str, name: str, errors: FormErrors, gettext: Any, *, money: bool = False) -> Any:
    try:
        number = Decimal(text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace(",", "."))
        if not number.is_finite():
            raise InvalidOperation(text)
    except InvalidOperation:
        errors.add(name, gettext("Must be a number."))
        return None
    if money:
        return number
    return int(number) if number == number.to_integral_value() and "." not in text else float(number)


def parse_number(text: str, name: str, errors: FormErrors, language: str) -> Any:
    """A number typed in a form (a decimal comma, spaces between thousands); a message beside ``name`` if not."""
    return _number(text, name, errors, translations(language).gettext)


def moment(text: str) -> str:
    """A ``datetime-local`` or ``date`` input's value, read as UTC (the pages say so beside the field)."""
    if "T" in text and not text.endswith("Z") and "+" not in text[10:]:
        return text + ("Z" if text.count(":") >= 1 else "")
    return text


def decision_body(values: Values, errors: FormErrors, language: str) -> dict[str, Any]:
    """The API body a decision form's values stand for (empty fields left out)."""
    gettext = translations(language).gettext
    body: dict[str, Any] = {name: values[name] for name in DECISION_SCALARS if values.get(name)}
    if values.get("budget_amount"):
        body["budget_amount"] = _number(values["budget_amount"], "budget_amount", errors, gettext, money=True)
    if values.get("decided_at"):
        body["decided_at"] = moment(values["decided_at"])
    for name in ("participants", "kpis"):
        if values.get(name):
            body[name] = list(values[name])
    tags = [tag.strip() for tag in str(values.get("tags", "")).split(",") if tag.strip()]
    if tags:
        body["tags"] = tags
    evidence = []
    for index in range(MAX_EVIDENCE_ROWS):
        row = {name: values.get(f"evidence.{index}.{name}", "") for name in EVIDENCE_FIELDS}
        if not any(row.values()):
            continue
        item: dict[str, Any] = {name: text for name, text in row.items() if text}
        if "value" in item:
            number = _number(item["value"], "", FormErrors(), gettext)
            item["value"] = row["value"] if number is None else number  # a value may be text ("top 3")
        evidence.append((index, item))
    body["evidence"] = [item for _, item in evidence]
    body["_evidence_rows"] = [index for index, _ in evidence]  # form row of each item, for the errors
    outcome = {name: values.get(f"expected_outcome.{name}", "") for name in OUTCOME_FIELDS}
    if any(outcome.values()):
        expected: dict[str, Any] = {name: text for name, text in outcome.items() if text}
        if "target_value" in expected:
            expected["target_value"] = _number(
                expected["target_value"], "expected_outcome.target_value", errors, gettext
            )
        if "review_by" in expected:
            expected["review_by"] = moment(expected["review_by"])
        body["expected_outcome"] = expected
    _quality_body(values, body, errors, gettext)
    return body


def _quality_body(values: Values, body: dict[str, Any], errors: FormErrors, gettext: Any) -> None:
    """The decision-quality fields of a form's body."""
    if values.get("confidence"):
        body["confidence"] = _number(values["confidence"], "confidence", errors, gettext)
    alternatives = []
    for index in range(MAX_ALTERNATIVE_ROWS):
        row = {name: values.get(f"alternatives.{index}.{name}", "") for name in ALTERNATIVE_FIELDS}
        if any(row.values()):
            alternatives.append(
                {
                    "title": row["title"],
                    **({"reason_rejected": row["reason_rejected"]} if row["reason_rejected"] else {}),
                }
            )
    body["alternatives"] = alternatives
    option, followed = values.get("data_recommendation.option", ""), values.get("data_recommendation.followed", "")
    if option or followed:
        recommendation: dict[str, Any] = {"option": option}
        if followed in ("true", "false"):
            recommendation["followed"] = followed == "true"
        body["data_recommendation"] = recommendation


def decision_values(decision: DecisionRead) -> Values:
    """What a decision's edit form shows: the form's values for the decision as it stands."""
    values: Values = {
        "title": decision.title,
        "description": decision.description or "",
        "rationale": decision.rationale,
        "basis": decision.basis.value,
        "owner": decision.owner,
        "participants": list(decision.participants),
        "team": decision.team or "",
        "channel": decision.channel or "",
        "category": decision.category.value,
        "budget_amount": "" if decision.budget_amount is None else str(decision.budget_amount),
        "budget_currency": decision.budget_currency or "",
        "decided_at": local_input(decision.decided_at),
        "strategy": decision.strategy or "",
        "kpis": list(decision.kpis),
        "tags": ", ".join(decision.tags),
        "contractor": decision.contractor or "",
        "directed_by": decision.directed_by or "",
    }
    for index, item in enumerate(decision.evidence):
        for name in EVIDENCE_FIELDS:
            value = getattr(item, name)
            values[f"evidence.{index}.{name}"] = "" if value is None else str(value)
    if decision.expected_outcome is not None:
        expected = decision.expected_outcome
        values["expected_outcome.description"] = expected.description
        values["expected_outcome.kpi"] = expected.kpi or ""
        values["expected_outcome.target_value"] = "" if expected.target_value is None else str(expected.target_value)
        values["expected_outcome.review_by"] = local_input(expected.review_by)
        values["expected_outcome.direction"] = expected.direction.value if expected.direction else ""
    values["confidence"] = "" if decision.confidence is None else str(decision.confidence)
    for index, alternative in enumerate(decision.alternatives):
        values[f"alternatives.{index}.title"] = alternative.title
        values[f"alternatives.{index}.reason_rejected"] = alternative.reason_rejected or ""
    if decision.data_recommendation is not None:
        values["data_recommendation.option"] = decision.data_recommendation.option
        values["data_recommendation.followed"] = "true" if decision.data_recommendation.followed else "false"
    return values


def changed_fields(submitted: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """The fields of a correction: those whose value differs from what the form showed (a field emptied is
    cleared). A field left as it was is not sent, so a value the form cannot show exactly (a time's
    microseconds) is never changed by being shown."""
    changes: dict[str, Any] = {}
    for name in {*submitted, *original} - {"_evidence_rows"}:
        if submitted.get(name) != original.get(name):
            changes[name] = submitted.get(name)
    if "evidence" in changes and changes["evidence"] is None:
        changes["evidence"] = []
    return changes


def local_input(value: datetime | str | None) -> str:
    """A UTC time as a ``datetime-local`` input shows it (to the second)."""
    if not value:
        return ""
    text = format_utc(value) if isinstance(value, datetime) else value
    return text[:19]


# --- refusals beside the fields ------------------------------------------------------------------------------

MESSAGES = {
    "missing": N_("Required."),
    "string_too_short": N_("Required."),
    "string_too_long": N_("Too long: at most %(max_length)s characters."),
    "too_long": N_("Too many: at most %(max_length)s."),
    "greater_than_equal": N_("Must be at least %(ge)s."),
    "less_than_equal": N_("Must be at most %(le)s."),
    "decimal_max_places": N_("At most %(decimal_places)s digits after the decimal mark."),
    "decimal_max_digits": N_("Too many digits."),
    "decimal_parsing": N_("Must be a number."),
    "float_parsing": N_("Must be a number."),
    "float_type": N_("Must be a number."),
    "enum": N_("Pick one of the options."),
    "literal_error": N_("Pick one of the options."),
    "datetime_parsing": N_("Not a valid date and time."),
    "datetime_from_date_parsing": N_("Not a valid date and time."),
    "timezone_aware": N_("Not a valid date and time."),
    "value_error.future": N_("Must not lie in the future."),
    "unknown_reference": N_("Not in the registry: %(value)s."),
    "duplicate_external_ref": N_("Already used by another decision."),
    "value_error.blank": N_("Must not be blank."),
}
PATTERN_MESSAGES = {
    "budget_currency": N_("Three capital letters, e.g. EUR."),
    "channel": N_("Lower-case words joined by underscores, e.g. paid_search."),
}
GENERAL_MESSAGES = {
    "budget": N_("Give the budget's amount and currency together, or neither."),
    "cleared": N_("This field cannot be emptied."),
}


def field_name(loc: Sequence[str | int], evidence_rows: Sequence[int] = ()) -> str:
    """The form field an error's ``loc`` names (``["body", "evidence", 0, "source"]`` → ``evidence.0.source``;
    evidence items are numbered as the form's rows were)."""
    parts = [str(part) for part in loc if part != "body"]
    if len(parts) >= 2 and parts[0] == "evidence" and parts[1].isdigit() and evidence_rows:
        position = int(parts[1])
        if position < len(evidence_rows):
            parts[1] = str(evidence_rows[position])
    return ".".join(parts)


def message(error_type: str, name: str, english: str, context: Mapping[str, Any], language: str) -> str:
    gettext = translations(language).gettext
    leaf = name.rsplit(".", 1)[-1]
    if error_type == "string_pattern_mismatch":
        if leaf in PATTERN_MESSAGES:
            return gettext(PATTERN_MESSAGES[leaf])
        return gettext(N_("Lower-case letters, digits, dots, dashes and underscores, e.g. anna.petrova."))
    if error_type == "string_too_short" and context.get("min_length", 1) > 1:
        return gettext(N_("Too short: at least %(min_length)s characters.")) % context
    if "not be blank" in english or "blank" in error_type:
        return gettext(N_("Must not be blank."))
    template = MESSAGES.get(error_type)
    if template is None:
        return english
    try:
        return gettext(template) % {**context, "value": context.get("value", "")}
    except (KeyError, TypeError, ValueError):
        return gettext(template)


def from_validation(error: ValidationError, errors: FormErrors, language: str, evidence_rows: Sequence[int]) -> None:
    """A schema's refusal, field by field."""
    gettext = translations(language).gettext
    for item in error.errors():
        name = field_name(list(item["loc"]), evidence_rows)
        english = str(item.get("msg", ""))
        if not name:
            if "budget_amount and budget_currency" in english:
                errors.add("budget_currency", gettext(GENERAL_MESSAGES["budget"]))
            elif "cannot be cleared" in english:
                errors.add(english.split(" ", 1)[0].removeprefix("Value error, "), gettext(GENERAL_MESSAGES["cleared"]))
            else:
                errors.add("", english.removeprefix("Value error, "))
            continue
        context = dict(item.get("ctx") or {})
        errors.add(name, message(str(item["type"]), name, english, context, language))


def from_problem(
    field_errors: Sequence[FieldError] | None, detail: str, errors: FormErrors, language: str, rows: Sequence[int]
) -> None:
    """The service's refusal (unknown references, times in the future, …), field by field."""
    gettext = translations(language).gettext
    if not field_errors:
        errors.add("", detail)
        return
    for item in field_errors:
        name = field_name(item.loc, rows)
        if "budget_amount and budget_currency" in item.msg:
            errors.add(name or "budget_currency", gettext(GENERAL_MESSAGES["budget"]))
            continue
        quoted = re.search(r"'([^']*)'", item.msg) if item.type == "unknown_reference" else None
        value = quoted.group(1) if quoted else ""
        errors.add(name, message(item.type, name, item.msg, {"value": value}, language))
