"""What the pages call the API's codes: a label a marketing head reads for each enumerated value (``basis``,
``classification_reason``, ``status``, ``category``, an outcome's ``result``, a revision's ``kind``, …), in the
page's language. The API keeps its codes; the pages never show one bare.

Each label is a message of the catalogues (``make messages`` extracts them from here); :func:`label` is the Jinja
filter ``label``: ``{{ d.basis|label }}``, and ``options`` gives a select's ``(code, label)`` pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from app.auth.scopes import Scope
from app.contractors.schemas import ContractorKind
from app.decisions.classification import Basis, BasisClass, ClassificationReason
from app.decisions.rationale_signals import Signal
from app.decisions.schemas import Category, DecisionStatus, OutcomeCause, OutcomeResult, ReviewState, RevisionKind
from app.kpis.schemas import KpiDirection, KpiKind
from app.people.schemas import PersonRole
from app.sources.schemas import DataSourceKind
from app.web.i18n import N_

# By enumeration, then member: members of different enumerations may share a value ("data").
LABELS: dict[type[StrEnum], dict[str, str]] = {
    Basis: {
        Basis.data: N_("data"),
        Basis.experiment: N_("an experiment"),
        Basis.research: N_("research"),
        Basis.intuition: N_("intuition"),
        Basis.emotion: N_("emotion"),
        Basis.authority: N_("someone's authority"),
    },
    BasisClass: {
        BasisClass.data: N_("made on data"),
        BasisClass.emotion: N_("made on emotions"),
    },
    ClassificationReason: {
        ClassificationReason.evidence_cited: N_("its data is cited"),
        ClassificationReason.data_claim_without_evidence: N_("claims data but cites none"),
        ClassificationReason.declared_intuition: N_("declared as intuition"),
        ClassificationReason.declared_emotion: N_("declared as emotion"),
        ClassificationReason.declared_authority: N_("declared as someone's call"),
    },
    Category: {
        Category.budget: N_("budget"),
        Category.channel_mix: N_("channel mix"),
        Category.creative: N_("creative"),
        Category.pricing: N_("pricing"),
        Category.positioning: N_("positioning"),
        Category.targeting: N_("targeting"),
        Category.contractor: N_("contractor"),
        Category.kpi: N_("KPI"),
        Category.strategy: N_("strategy"),
        Category.other: N_("other"),
    },
    DecisionStatus: {
        DecisionStatus.active: N_("in force"),
        DecisionStatus.reversed: N_("reversed"),
        DecisionStatus.superseded: N_("superseded"),
    },
    OutcomeResult: {
        OutcomeResult.success: N_("success"),
        OutcomeResult.partial: N_("partial success"),
        OutcomeResult.failure: N_("failure"),
        OutcomeResult.inconclusive: N_("inconclusive"),
    },
    ReviewState: {
        ReviewState.overdue: N_("review overdue"),
        ReviewState.reviewed: N_("reviewed"),
    },
    RevisionKind: {
        RevisionKind.created: N_("recorded"),
        RevisionKind.edited: N_("corrected"),
        RevisionKind.reversed: N_("reversed"),
        RevisionKind.superseded: N_("superseded"),
        RevisionKind.outcome_recorded: N_("outcome reviewed"),
    },
    KpiDirection: {
        KpiDirection.increase: N_("higher is better"),
        KpiDirection.decrease: N_("lower is better"),
    },
    KpiKind: {
        KpiKind.money: N_("money"),
        KpiKind.activity: N_("activity"),
    },
    PersonRole: {
        PersonRole.owner: N_("business owner"),
        PersonRole.lead: N_("head of marketing"),
        PersonRole.member: N_("team member"),
    },
    Scope: {
        Scope.analytics: N_("analytics"),
        Scope.read: N_("read"),
        Scope.write: N_("write"),
        Scope.admin: N_("administrator"),
    },
    # The whole system (part 2): what a review blames, what a rationale's language says, contractors' kinds.
    OutcomeCause: {
        OutcomeCause.decision: N_("the decision itself"),
        OutcomeCause.execution: N_("its execution"),
        OutcomeCause.external: N_("external circumstances"),
        OutcomeCause.unknown: N_("unknown"),
    },
    Signal: {
        Signal.feeling: N_("feeling"),
        Signal.certainty: N_("certainty without proof"),
        Signal.authority: N_("someone's say-so"),
        Signal.hearsay: N_("hearsay"),
    },
    ContractorKind: {
        ContractorKind.agency: N_("agency"),
        ContractorKind.freelancer: N_("freelancer"),
        ContractorKind.platform: N_("platform"),
        ContractorKind.other: N_("other"),
    },
    DataSourceKind: {
        DataSourceKind.analytics: N_("web analytics"),
        DataSourceKind.crm: N_("CRM"),
        DataSourceKind.ads: N_("ad platform"),
        DataSourceKind.experiment: N_("experiment"),
        DataSourceKind.survey: N_("survey"),
        DataSourceKind.research: N_("research"),
        DataSourceKind.finance: N_("finance"),
        DataSourceKind.other: N_("other"),
    },
}


def labeller(gettext: Callable[[str], str]) -> Callable[[StrEnum | None], str]:
    """The ``label`` filter of a language: a code's label, translated; an unknown code as it is; None as a dash."""

    def label(code: StrEnum | None) -> str:
        if code is None:
            return "—"
        message = LABELS.get(type(code), {}).get(code)
        return gettext(message) if message is not None else str(code)

    return label


def options(label: Callable[[StrEnum | None], str]) -> Callable[[Iterable[StrEnum]], list[tuple[str, str]]]:
    """The ``options`` filter: a select's (code, label) pairs for enumerated values."""

    def pairs(codes: Iterable[StrEnum]) -> list[tuple[str, str]]:
        return [(code.value, label(code)) for code in codes]

    return pairs
