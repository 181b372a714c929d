"""The errors of decisions: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class DecisionNotFound(NotFound):
    code = "decision_not_found"
    title = "Decision not found"


class DuplicateExternalRef(Conflict):
    code = "duplicate_external_ref"
    title = "External reference already used"


class DecisionNotActive(Conflict):
    code = "decision_not_active"
    title = "Decision is no longer active"


class OutcomeAlreadyRecorded(Conflict):
    code = "outcome_already_recorded"
    title = "Outcome already recorded"


class SupersessionCycle(Conflict):
    code = "supersession_cycle"
    title = "Supersession would make a cycle"
