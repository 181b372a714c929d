"""The basis rules: how a decision is classed as made on data or on emotions.

1. basis in {intuition, emotion, authority} -> ``emotion``, reason ``declared_<basis>``.
2. basis in {data, experiment, research} with evidence -> ``data``, reason ``evidence_cited``.
3. basis in {data, experiment, research} without evidence -> ``emotion``,
   reason ``data_claim_without_evidence``: a decision counts as made on data only when its
   data is cited.
"""

from enum import StrEnum


class Basis(StrEnum):
    data = "data"
    experiment = "experiment"
    research = "research"
    intuition = "intuition"
    emotion = "emotion"
    authority = "authority"


class BasisClass(StrEnum):
    data = "data"
    emotion = "emotion"


class ClassificationReason(StrEnum):
    evidence_cited = "evidence_cited"
    data_claim_without_evidence = "data_claim_without_evidence"
    declared_intuition = "declared_intuition"
    declared_emotion = "declared_emotion"
    declared_authority = "declared_authority"


DATA_BASES = frozenset({Basis.data, Basis.experiment, Basis.research})


def classify(basis: Basis, evidence_count: int) -> tuple[BasisClass, ClassificationReason]:
    if basis not in DATA_BASES:
        return BasisClass.emotion, ClassificationReason(f"declared_{basis.value}")
    if evidence_count > 0:
        return BasisClass.data, ClassificationReason.evidence_cited
    return BasisClass.emotion, ClassificationReason.data_claim_without_evidence
