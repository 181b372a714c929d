"""Verification: recompute the chain and the checkpoints from the database, and check that everything an answer or
a figure reads is what the log says, or follows from it.

- Logged, compared with the log: every decision, KPI, strategy version, strategy, person and data source is in the
  state its latest entry says; every decision and KPI revision row (its snapshot and its own fields: who, when,
  why, what changed) is the one its entry logged.
- Recomputed from the logged state, compared: a decision's ``evidence_count`` and ``review_by``; a
  strategy's version count, latest ``effective_from`` and ``updated_at``; the basis and the forecast rollups (folded
  cells and pending deltas), each recomputed from the decisions in one SQL aggregate.
- Trust comes from outside the database only: the keys in the settings or given on the command line, and a
  checkpoint saved earlier (:class:`Trust`). Without any, a clean result is reported as ``unanchored``.

Adoption (:func:`adopt_database`, ``decision-log verify --adopt``): a database written by an earlier version holds
records, revisions and registries that version did not log, or logged in an earlier form. When the log itself is
sound (every entry, link and checkpoint verifies) and every problem is of that kind, the operator may have the log
vouch for the record as it stands: one ``<record>.adopted`` entry per such record (its current state) and one
``<record>.revision_adopted`` entry per such revision. Adoption entries stay in the log for good; every later
verification counts them (``adopted``), so a reader sees what was vouched for by the operator rather than logged
by the service as it happened.

One pass over the chain, streamed (memory: a digest per logged record and per logged revision), then one pass
over each record table, a record beside its current revision. Everything is read in one snapshot (REPEATABLE READ
on PostgreSQL, one read transaction on SQLite).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics import day_rollup, quality
from app.analytics import queries as analytics
from app.analytics.queries import FORECAST_ROLLUP
from app.contractors.models import Contractor
from app.contractors.schemas import ContractorRead
from app.core.config import Settings
from app.core.engine import json_value
from app.core.money import from_parts
from app.core.types import format_utc, table_of
from app.core.unit_of_work import Database, transaction
from app.decisions import service as decisions
from app.decisions.models import Decision, DecisionRevision
from app.decisions.rationale_signals import SIGNAL_BITS, Signal
from app.integrity import repository, signing
from app.integrity.schemas import (
    IntegrityProblem,
    IntegrityReport,
    SavedCheckpoint,
    SavedCheckpointResult,
    TrustAnchor,
    VerificationStatus,
)
from app.integrity.service import (
    GENESIS,
    CanonicalText,
    LogItem,
    Sealer,
    canonical,
    chain_step,
    contractor_entity,
    data_source_entity,
    decision_entity,
    entry_form,
    kpi_entity,
    person_entity,
    record_many,
    strategy_entity,
    strategy_version_entity,
)
from app.kpis import service as kpis
from app.kpis.models import Kpi, KpiRevision
from app.kpis.service import _read as kpi_state
from app.people.models import Person
from app.people.schemas import PersonRead
from app.sources.models import DataSource
from app.sources.schemas import DataSourceRead
from app.strategies import service as strategies
from app.strategies.models import Strategy, StrategyVersion
from app.strategies.service import _version as strategy_version_state

MAX_PROBLEMS = 1000
REPORTED_PROBLEMS = 20
# What adoption can settle: a record or revision the log does not hold (or holds in an earlier form). Anything
# else (an entry, a link or a checkpoint that does not verify, a deleted record, a derived column or a rollup
# that does not follow) is refused.
ADOPTABLE = frozenset({"record_not_logged", "record_differs", "revision_not_logged", "revision_differs"})
ADOPTED = ".adopted"  # an adoption entry's kind ends so: the record's state, as it stood when adopted
REVISION_ADOPTED = ".revision_adopted"  # one revision as it stood when adopted; not the record's latest state


@dataclass(slots=True)
class Problem:
    code: str
    detail: str
    position: int | None = None  # in the chain
    entry_id: int | None = None
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Trust:
    """What verification trusts, all of it from outside the database: public keys (a checkpoint signed by any
    other key is a forgery) and a checkpoint saved earlier (the chain must still hold and extend it)."""

    keys: frozenset[str] = frozenset()
    anchors: tuple[TrustAnchor, ...] = ()
    checkpoint: SavedCheckpoint | None = None

    @classmethod
    def of(cls, settings: Settings, *, keys: Iterable[str] = (), checkpoint: SavedCheckpoint | None = None) -> Trust:
        """The settings' keys (the signing key's public half, DECISION_LOG_INTEGRITY_TRUSTED_KEYS), plus ``keys``
        and ``checkpoint`` given by the person verifying."""
        configured = signing.configured_trust(settings)
        anchors = [TrustAnchor(name) for name, found in configured.items() if found]
        given = set(keys)
        if given:
            anchors.append(TrustAnchor.trusted_key_option)
        if checkpoint is not None:
            anchors.append(TrustAnchor.saved_checkpoint)
        return cls(frozenset(given.union(*configured.values())), tuple(anchors), checkpoint)


@dataclass(slots=True)
class Report:
    anchors: list[TrustAnchor] = field(default_factory=list)
    public_keys: list[str] = field(default_factory=list)  # the trusted keys checkpoints were checked against
    entries: int = 0  # the chain's length
    unsealed: int = 0  # entries not yet in the chain (written since the seal)
    checkpoints: int = 0
    signed_position: int | None = None  # the latest checkpoint's position
    saved_checkpoint: SavedCheckpointResult | None = None
    records: int = 0  # decisions, KPIs and strategy versions compared with their latest entry
    revisions: int = 0  # decision and KPI revision rows compared with their entries
    registries: int = 0  # people, data sources, contractors and strategies compared with their latest entry
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    adopted: int = 0  # adoption entries in the log (records and revisions vouched for by an operator)

    @property
    def anchored(self) -> bool:
        return bool(self.anchors)

    @property
    def status(self) -> VerificationStatus:
        if self.problem_count:
            return VerificationStatus.failed
        return VerificationStatus.verified if self.anchored else VerificationStatus.unanchored

    @property
    def ok(self) -> bool:
        return self.status is VerificationStatus.verified

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        self.codes[problem.code] = self.codes.get(problem.code, 0) + 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    codes: dict[str, int] = field(default_factory=dict)  # problems by code, all of them


@dataclass(slots=True)
class Adoption:
    """What adoption will log: entries to append, and how many records and revisions they vouch for."""

    entries: list[LogItem] = field(default_factory=list)
    records: int = 0
    revisions: int = 0


def _digest(text: str | bytes) -> bytes:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).digest()


def _revision_digest(content_digest: bytes, revision: str) -> bytes:
    """What binds a revision row to its entry: its snapshot (the entry's content) and its own fields."""
    return hashlib.sha256(content_digest + revision.encode("utf-8")).digest()


def _revision_number(revision: str) -> int | None:
    """The revision number in an entry's revision fields. Their canonical form sorts ``"revision"`` last, so it is
    read from the tail without parsing the rest; anything else is parsed."""
    head, _, number = revision[:-1].rpartition(',"revision":')
    if head and revision.endswith("}") and number.isdigit() and number.isascii():
        return int(number)
    try:
        value = json.loads(revision)["revision"]
    except (ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


UNREPRESENTABLE = "\x00"  # matches no entry: the canonical text of a stored value JCS cannot represent


def _stored_canonical(value: Any) -> str:
    """RFC 8785 text of a JSON value read back from the database. PostgreSQL's JSONB hands a number such as 1e18
    back as an integer beyond 2**53 (read as one up to 64 bits), which JCS refuses; as the double it was written
    as, it is canonical."""
    try:
        return canonical(value)
    except rfc8785.CanonicalizationError:
        try:
            return canonical(_as_doubles(value))
        except rfc8785.CanonicalizationError:
            return UNREPRESENTABLE


def _as_doubles(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_doubles(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return float(value)
    return value


# ---------------------------------------------------------------------------------------------
# What is compared with the log
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class History:
    """A record whose every write adds a revision row; one entry per write logs both (the record's new state as
    ``content``, the revision's own fields as ``revision``)."""

    table: repository.Revisioned  # its tables, and the revision columns ``fields`` reads (and ``snapshot``)
    entity: Callable[[Any], str]  # from the record's key
    state: Callable[[dict[str, Any]], Any]  # the record's API form (JSON) from its columns: what entries log
    fields: Callable[[Mapping[str, Any]], dict[str, Any]]  # a revision row's logged fields, from its columns
    derived: Callable[[dict[str, Any], Any], list[str]]  # columns of a record that do not follow from its state
    # The state as an earlier version logged it, for a record not written since (None: the form never changed).
    earlier: Callable[[Any], Any] | None = None


# Fields a decision's answer gained after its log began, with the value every decision written before holds (the
# migrations that added them fill it in): a decision not written since is logged without them. Only these, and only
# at that value, are set aside: a value given to one of them behind the service's back is still a difference.
ADDED_TO_DECISION: dict[str, Any] = {
    "confidence": None,
    "alternatives": [],
    "data_recommendation": None,
    "contractor": None,
    "directed_by": None,
    "rationale_signals": [],
}
ADDED_TO_EXPECTED_OUTCOME: dict[str, Any] = {"direction": None}
ADDED_TO_OUTCOME: dict[str, Any] = {"cause": None, "target_met": None}


def _without_added(value: dict[str, Any], added: Mapping[str, Any]) -> dict[str, Any]:
    return {name: v for name, v in value.items() if name not in added or v != added[name]}


def decision_as_logged_before(state: dict[str, Any]) -> dict[str, Any]:
    """A decision's state in the form a version before the added fields logged it."""
    earlier = _without_added(state, ADDED_TO_DECISION)
    for name, added in (("expected_outcome", ADDED_TO_EXPECTED_OUTCOME), ("outcome", ADDED_TO_OUTCOME)):
        if earlier.get(name) is not None:
            earlier[name] = _without_added(earlier[name], added)
    return earlier


def _earlier_digest(history: History, state: Any) -> Callable[[], bytes] | None:
    if history.earlier is None:
        return None
    as_logged_before = history.earlier
    return lambda: _digest(canonical(as_logged_before(state)))


def _decision_derived(row: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """The decision columns the API does not show but filters and figures read, recomputed from its state."""
    wrong = []
    if row["evidence_count"] != len(state["evidence"]):
        wrong.append("evidence_count")
    expected, review_by = state["expected_outcome"], row["review_by"]
    if (None if review_by is None else format_utc(review_by)) != (expected and expected["review_by"]):
        wrong.append("review_by")
    signals = state.get("rationale_signals") or []
    if row["rationale_signal_mask"] != sum({SIGNAL_BITS[Signal(s["signal"])] for s in signals}):
        wrong.append("rationale_signal_mask")
    if row["expected_kpi"] != (expected and expected["kpi"]) or row["expected_direction"] != (
        expected and expected["direction"]
    ):
        wrong.append("expected_outcome's KPI and direction columns")
    return wrong


HISTORIES = (
    History(
        repository.Revisioned(
            table_of(Decision),
            table_of(DecisionRevision),
            "id",
            "decision_id",
            (
                "revision",
                "kind",
                "changed_at",
                "changed_by",
                "recorded_by",
                "edited_by",
                "reason",
                "changes",
                "snapshot",
            ),
        ),
        decision_entity,
        lambda row: decisions.to_read(row).model_dump(mode="json"),
        decisions.revision_fields,
        _decision_derived,
        decision_as_logged_before,
    ),
    History(
        repository.Revisioned(
            table_of(Kpi),
            table_of(KpiRevision),
            "key",
            "kpi_key",
            ("revision", "changed_at", "changed_by", "change_reason", "changes", "snapshot"),
        ),
        kpi_entity,
        lambda row: kpi_state(row).model_dump(mode="json"),
        kpis.revision_fields,
        lambda row, state: [],
    ),
)

# Records with no revision rows: their table, entity, logged state, and the report's counter for them.
RECORDS: tuple[tuple[Table, Callable[[Any], str], Callable[[Any], Any], str], ...] = (
    (
        table_of(StrategyVersion),
        lambda row: strategy_version_entity(row.strategy_key, row.number),
        lambda row: strategy_version_state(row).model_dump(mode="json"),
        "records",
    ),
    (table_of(Strategy), lambda row: strategy_entity(row.key), strategies.logged_strategy, "registries"),
    (
        table_of(Person),
        lambda row: person_entity(row.handle),
        lambda row: PersonRead.model_validate(row, from_attributes=True).model_dump(mode="json"),
        "registries",
    ),
    (
        table_of(DataSource),
        lambda row: data_source_entity(row.key),
        lambda row: DataSourceRead.model_validate(row, from_attributes=True).model_dump(mode="json"),
        "registries",
    ),
    (
        table_of(Contractor),
        lambda row: contractor_entity(row.key),
        lambda row: ContractorRead.model_validate(row, from_attributes=True).model_dump(mode="json"),
        "registries",
    ),
)


# ---------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------


async def verify_database(
    database: Database,
    *,
    seal: bool = True,
    trusted_keys: Iterable[str] = (),
    checkpoint: SavedCheckpoint | None = None,
) -> Report:
    """Seal what is pending (unless ``seal`` is false), then verify everything, trusting the settings' keys,
    ``trusted_keys`` and ``checkpoint`` (see :class:`Trust`)."""
    trust = Trust.of(database.settings, keys=trusted_keys, checkpoint=checkpoint)
    if seal:
        await Sealer(database).seal(full=True)
    async with transaction(database, writes=False) as session:
        if database.dialect == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return await verify_session(session, trust)


async def verify_session(session: AsyncSession, trust: Trust) -> Report:
    return await _Verification(session, trust).run()


@dataclass(frozen=True, slots=True)
class AdoptionResult:
    before: Report  # the verification adoption rested on
    adoption: Adoption | None  # what was logged; None when refused (``before`` has problems adoption cannot settle)
    after: Report | None  # the verification after adoption


async def adopt_database(
    database: Database, *, trusted_keys: Iterable[str] = (), checkpoint: SavedCheckpoint | None = None
) -> AdoptionResult:
    """Seal, verify, and when every problem is one adoption settles (:data:`ADOPTABLE`), log the record as it
    stands in one transaction during which nothing else can write it; then verify again."""
    trust = Trust.of(database.settings, keys=trusted_keys, checkpoint=checkpoint)
    await Sealer(database).seal(full=True)
    async with transaction(database, writes=True) as session:
        await repository.hold_writes(session)
        verification = _Verification(session, trust, adopting=True)
        before = await verification.run()
        adoption = verification.adoption
        assert adoption is not None
        if not before.codes or set(before.codes) - ADOPTABLE:
            return AdoptionResult(before, None, None)
        await record_many(session, adoption.entries)
    after = await verify_database(database, trusted_keys=trusted_keys, checkpoint=checkpoint)
    return AdoptionResult(before, adoption, after)


def _family(entity: str) -> str:
    """The kind of record an entity names, as entry kinds spell it: ``decision``, ``strategy_version``, …"""
    parts = entity.split("/")
    return "strategy_version" if parts[0] == "strategy" and len(parts) > 2 else parts[0].replace("-", "_")


class _Verification:
    def __init__(self, session: AsyncSession, trust: Trust, *, adopting: bool = False) -> None:
        self.session = session
        self.trust = trust
        self.adoption = Adoption() if adopting else None
        self.report = Report(anchors=list(trust.anchors), public_keys=sorted(trust.keys))
        # entity → (position, entry id, content digest) of its latest entry
        self.latest: dict[str, tuple[int | None, int, bytes]] = {}
        # (entity, revision number) → (position, entry id, revision digest) of the entry that logged it
        self.logged_revisions: dict[tuple[str, int], tuple[int | None, int, bytes]] = {}

    def add(self, code: str, detail: str, **where: Any) -> None:
        self.report.add(Problem(code, detail, **where))

    async def run(self) -> Report:
        checkpoints = {row.position: row for row in await repository.checkpoints(self.session)}
        self.report.checkpoints = len(checkpoints)
        self.report.signed_position = max(checkpoints, default=None)
        await self._chain(checkpoints)
        self._checkpoints(checkpoints)
        self._saved_checkpoint_signature()
        await self._unsealed()
        await self._derived()
        await self._rollup()
        await self._day_rollup()
        for history in HISTORIES:
            await self._history(history)
        for table, entity_of, state_of, counter in RECORDS:
            await self._records(table, entity_of, state_of, counter)
        self._leftovers()
        self.report.problems.sort(key=lambda p: math.inf if p.position is None else p.position)
        return self.report

    # 1. The chain, position by position, and the checkpoint saved earlier on the way.
    async def _chain(self, checkpoints: dict[int, Any]) -> None:
        saved = self.trust.checkpoint
        # The chain over the entries as they are, compared with the stored one up to its first break, and with the
        # saved checkpoint; it cannot be recomputed past a missing position or entry.
        computed = GENESIS
        recomputable = True
        expected_position = 1
        broken = False  # past the first break, chain hashes and checkpoints cannot be compared any more
        last_good_checkpoint = 0
        async for rows in repository.stream_chain(self.session):
            for row in rows:
                position, entry_id, chain_hash, present, kind, entity, recorded_at, content, revision, stored = row
                if position != expected_position:
                    recomputable = False
                    if not broken:
                        self.add(
                            "link_missing",
                            f"the chain jumps from position {expected_position - 1} to {position}: "
                            f"position {expected_position} (and any up to {position - 1}) was deleted",
                            position=expected_position,
                        )
                        broken = True
                expected_position = position + 1
                if present is None:
                    self.add(
                        "entry_missing",
                        f"entry {entry_id} at position {position} was deleted",
                        position=position,
                        entry_id=entry_id,
                    )
                    broken, recomputable = True, False
                    continue
                actual = hashlib.sha256(
                    entry_form(kind, entity, format_utc(recorded_at), content, revision)
                ).hexdigest()
                if actual != stored:
                    self.add(
                        "entry_altered",
                        f"entry {entry_id} at position {position} ({kind} {entity}) does not match its hash: "
                        "altered or forged",
                        position=position,
                        entry_id=entry_id,
                        entity=entity,
                    )
                self._note(kind, entity, position, entry_id, content, revision)
                if recomputable:
                    computed = chain_step(computed, actual)
                if saved is not None and position == saved.position:
                    self._saved_found(recomputable and computed.hex() == saved.head_hash)
                if broken:  # (while the chain is whole, it is recomputable too)
                    continue
                if computed.hex() != chain_hash:
                    self.add(
                        "chain_broken",
                        f"the chain breaks at position {position} (entry {entry_id}, {kind} {entity}): entries "
                        "altered, swapped, inserted or removed",
                        position=position,
                        entry_id=entry_id,
                        entity=entity,
                    )
                    broken = True
                    continue
                checkpoint = checkpoints.get(position)
                if checkpoint is not None:
                    if checkpoint.head_hash != chain_hash:
                        self.add(
                            "checkpoint_mismatch",
                            f"the chain's head at position {position} differs from the signed checkpoint: the log "
                            f"was rewritten between positions {last_good_checkpoint + 1} and {position}",
                            position=position,
                            entry_id=entry_id,
                            entity=entity,
                        )
                        broken = True
                    else:
                        last_good_checkpoint = position
        self.report.entries = entries = expected_position - 1
        if saved is None or self.report.saved_checkpoint is not None:
            return
        if saved.position > entries:
            self.report.saved_checkpoint = SavedCheckpointResult(
                position=saved.position, head_hash=saved.head_hash, contained=False
            )
            self.add(
                "saved_checkpoint_rolled_back",
                f"the checkpoint saved at position {saved.position} lies beyond the chain, which holds {entries} "
                f"entries: entries {entries + 1} to {saved.position} (and what they recorded) were removed",
                position=entries + 1,
            )
        else:
            self._saved_found(False)  # its position was deleted from the chain

    def _saved_found(self, contained: bool) -> None:
        """The chain reached the saved checkpoint's position: ``contained`` when it recomputes to the saved head."""
        saved = self.trust.checkpoint
        assert saved is not None
        self.report.saved_checkpoint = SavedCheckpointResult(
            position=saved.position, head_hash=saved.head_hash, contained=contained
        )
        if not contained:
            self.add(
                "saved_checkpoint_mismatch",
                f"the database no longer holds the checkpoint saved at position {saved.position}: the chain "
                "does not recompute to the saved head there, so the log was rewritten up to that point",
                position=saved.position,
            )

    def _note(
        self, kind: str, entity: str, position: int | None, entry_id: int, content: str, revision: str | None
    ) -> None:
        """Keep what the record and revision passes compare with: the entity's latest state, the revision's. An
        adopted revision says what that revision was, not what the record is now; it replaces the revision's
        earlier entry (the reason it was adopted)."""
        digest = _digest(content)
        adopted_revision = kind.endswith(REVISION_ADOPTED)
        if adopted_revision or kind.endswith(ADOPTED):
            self.report.adopted += 1
        if not adopted_revision:
            self.latest[entity] = (position, entry_id, digest)
        if revision is None:
            return
        number = _revision_number(revision)
        if number is None:
            self.add(
                "entry_altered",
                f"entry {entry_id} ({entity}) holds unreadable revision fields: forged",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )
            return
        earlier = self.logged_revisions.get((entity, number))
        if earlier is not None and not adopted_revision:
            self.add(
                "revision_differs",
                f"revision {number} of {entity} is logged twice (entries {earlier[1]} and {entry_id}): forged",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )
        self.logged_revisions[(entity, number)] = (position, entry_id, _revision_digest(digest, revision))

    # 2. The checkpoints: signed by a trusted key, none beyond the chain.
    def _checkpoints(self, checkpoints: dict[int, Any]) -> None:
        trusted = self.trust.keys
        for position, checkpoint in checkpoints.items():
            if trusted and checkpoint.public_key not in trusted:
                self.add(
                    "checkpoint_untrusted_key",
                    f"the checkpoint at position {position} is signed by an unknown key "
                    f"({signing.key_id(checkpoint.public_key)}): the log was rewritten and re-signed",
                    position=position,
                )
            elif not signing.checkpoint_valid(
                checkpoint.public_key, position, checkpoint.head_hash, checkpoint.signed_at, checkpoint.signature
            ):
                self.add(
                    "checkpoint_signature_invalid",
                    f"the checkpoint at position {position} does not match its signature: the log was rewritten "
                    f"(between positions {_previous(checkpoints, position) + 1} and {position})",
                    position=position,
                )
            if position > self.report.entries:
                self.add(
                    "chain_truncated",
                    f"a checkpoint covers {position} entries, the chain holds {self.report.entries}: "
                    f"entries from position {self.report.entries + 1} on were removed",
                    position=self.report.entries + 1,
                )

    def _saved_checkpoint_signature(self) -> None:
        """The saved checkpoint is the person's own anchor, but a file whose signature fails was altered since."""
        saved = self.trust.checkpoint
        if saved is None:
            return
        if self.trust.keys and saved.public_key not in self.trust.keys:
            self.add(
                "saved_checkpoint_untrusted_key",
                f"the saved checkpoint is signed by a key that is not trusted ({signing.key_id(saved.public_key)})",
                position=saved.position,
            )
        elif not signing.checkpoint_valid(
            saved.public_key, saved.position, saved.head_hash, saved.signed_at, saved.signature
        ):
            self.add(
                "saved_checkpoint_signature_invalid",
                f"the saved checkpoint (position {saved.position}) does not match its signature: the file was altered",
                position=saved.position,
            )

    # 3. Entries written since the seal (their transactions committed after it): checked, kept as latest state.
    async def _unsealed(self) -> None:
        async for rows in repository.stream_unlinked(self.session):
            for entry_id, kind, entity, recorded_at, content, revision, stored in rows:
                self.report.unsealed += 1
                actual = hashlib.sha256(
                    entry_form(kind, entity, format_utc(recorded_at), content, revision)
                ).hexdigest()
                if actual != stored:
                    self.add(
                        "entry_altered",
                        f"unsealed entry {entry_id} ({kind} {entity}) does not match its hash: altered or forged",
                        entry_id=entry_id,
                        entity=entity,
                    )
                self._note(kind, entity, None, entry_id, content, revision)

    # 4. Columns derived from other rows, recomputed in SQL.
    async def _derived(self) -> None:
        for row in await repository.strategy_counters_differing(self.session):
            self._derived_problem(
                strategy_entity(row.key),
                f"version_count {row.version_count}, latest_effective_from {_when(row.latest_effective_from)} and "
                f"updated_at {_when(row.updated_at)} do not follow from its versions ({row.expected_count}, "
                f"{_when(row.expected_latest)}, {_when(row.expected_updated)})",
            )

    def _derived_problem(self, entity: str, detail: str, logged: tuple[int | None, int, bytes] | None = None) -> None:
        logged = logged or self.latest.get(entity)
        self.add(
            "derived_differs",
            f"{entity}: {detail}: changed behind the service's back",
            position=logged[0] if logged else None,
            entry_id=logged[1] if logged else None,
            entity=entity,
        )

    async def _rollup(self) -> None:
        """The basis and the forecast rollups (folded cells and pending deltas) against the decisions, cell by cell."""
        for cell in await analytics.rollup_differences(self.session):
            month = _month(cell.period)
            name = f"{cell.dimension}={cell.value!r}, {month}, {cell.basis_class}"
            name += " (data claimed without evidence)" if cell.unsupported else ""
            name += f", currency {cell.currency}" if cell.currency else ""
            self.add(
                "rollup_differs",
                f"the basis rollup's cell {name} holds {cell.stored_decisions} decisions and a budget of "
                f"{from_parts(cell.stored_budget_high, cell.stored_budget_low)}; the decisions make "
                f"{cell.expected_decisions} and {from_parts(cell.expected_budget_high, cell.expected_budget_low)}: "
                "the rollup or its pending deltas were changed behind the service's back",
                entity=f"basis_rollup/{cell.dimension}/{cell.value}/{month}",
            )
        for cell in await quality.forecast_rollup_differences(self.session):
            month = _month(cell.period)
            stored, expected = (
                f"{getattr(cell, f'{side}_forecasts')} forecasts (confidences, observed and squared errors summing "
                + ", ".join(str(getattr(cell, f"{side}_{name}")) for name in FORECAST_ROLLUP.figures[1:])
                + ")"
                for side in ("stored", "expected")
            )
            self.add(
                "rollup_differs",
                f"the forecast rollup's cell {cell.dimension}={cell.value!r}, {month}, {cell.basis_class}, bin "
                f"{cell.bin} holds {stored}; the decisions make {expected}: the rollup or its pending deltas were "
                "changed behind the service's back",
                entity=f"forecast_rollup/{cell.dimension}/{cell.value}/{month}",
            )

    async def _day_rollup(self) -> None:
        """The summary's and the KPI uses' day rollups (folded cells and pending deltas) against the decisions."""
        for cell in await day_rollup.differences(self.session):
            day = cell.day.strftime("%Y-%m-%d") if hasattr(cell.day, "strftime") else str(cell.day)[:10]
            if cell.table == "kpi_rollup":
                name, entity = f"KPI {cell.kpi!r}, {day}", f"kpi_rollup/{cell.kpi}/{day}"
            else:
                name = f"owner {cell.owner_handle!r}, {day}"
                name += f", directed by {cell.directed_by!r}" if cell.directed_by else ""
                entity = f"summary_rollup/{cell.owner_handle}/{day}"
            self.add(
                "rollup_differs",
                f"the {cell.table.replace('_', ' ')}'s cell {name} holds {cell.stored} as {cell.figure}; the decisions "
                f"make {cell.expected}: the rollup or its pending deltas were changed behind the service's back",
                entity=entity,
            )

    # 5. Every record is in the state its latest entry says, and each of its revisions is the one logged.
    async def _history(self, history: History) -> None:
        table = history.table
        key, columns, json_columns = table.key, table.columns, table.json_columns
        names = [c.name for c in table.records.c]
        split = len(names)
        async for rows in repository.stream_records_with_current_revision(self.session, table):
            for row in rows:
                self.report.records += 1
                record = _decoded(dict(zip(names, row[:split], strict=True)), json_columns)
                entity = history.entity(record[key])
                state = history.state(record)
                text = canonical(state)
                digest = _digest(text)
                logged = self._compare_state(entity, digest, text, _earlier_digest(history, state))
                for column in history.derived(record, state):
                    self._derived_problem(entity, f"{column} does not follow from its logged state", logged)
                revision = _decoded(dict(zip(columns, row[split:], strict=True)), json_columns)
                if revision["revision"] is None:
                    continue  # no revision row of its current number: its entry is left over (revision_missing)
                # The current revision's snapshot is the record's state: reuse its canonical digest when they are
                # the same JSON value (their API forms are then the same too).
                snapshot = revision["snapshot"]
                self._compare_revision(history, entity, revision, digest if snapshot == state else None)
        async for rows in repository.stream_earlier_revisions(self.session, table):
            for row in rows:
                revision = _decoded(dict(zip(columns, row[1:], strict=True)), json_columns)
                self._compare_revision(history, history.entity(row[0]), revision, None)

    def _compare_state(
        self, entity: str, digest: bytes, text: str, earlier: Callable[[], bytes] | None = None
    ) -> tuple[int | None, int, bytes] | None:
        """Compare a record's state (``text``, its canonical form) with its latest entry; that entry (None when
        there is none). ``earlier`` gives the digest of the state in an earlier version's form, which an entry
        that version wrote holds (asked only when the state's own digest differs)."""
        logged = self.latest.pop(entity, None)
        if logged is not None and (logged[2] == digest or (earlier is not None and logged[2] == earlier())):
            return logged
        if self.adoption is not None:
            self.adoption.entries.append(LogItem(f"{_family(entity)}{ADOPTED}", entity, CanonicalText(text)))
            self.adoption.records += 1
        if logged is None:
            self.add("record_not_logged", f"{entity} has no entry in the log", entity=entity)
        else:
            position, entry_id, _ = logged
            self.add(
                "record_differs",
                f"{entity} differs from its latest logged state (entry {entry_id}): changed behind the service's back",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )
        return logged

    def _compare_revision(self, history: History, entity: str, revision: Any, content_digest: bytes | None) -> None:
        self.report.revisions += 1
        number = revision["revision"]
        logged = self.logged_revisions.pop((entity, number), None)
        if logged is None:
            self._adopt_revision(history, entity, revision)
            self.add("revision_not_logged", f"revision {number} of {entity} has no entry in the log", entity=entity)
            return
        position, entry_id, expected = logged
        if content_digest is None:
            content_digest = _digest(_stored_canonical(revision["snapshot"]))
        if _revision_digest(content_digest, _stored_canonical(history.fields(revision))) != expected:
            self._adopt_revision(history, entity, revision)
            self.add(
                "revision_differs",
                f"revision {number} of {entity} differs from the one logged by entry {entry_id} (its snapshot, "
                "author, time, reason or changes): changed behind the service's back",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )

    def _adopt_revision(self, history: History, entity: str, revision: Any) -> None:
        if self.adoption is None:
            return
        snapshot, fields = _stored_canonical(revision["snapshot"]), _stored_canonical(history.fields(revision))
        if UNREPRESENTABLE in (snapshot, fields):
            return  # nothing can log it: it stays reported
        kind = f"{_family(entity)}{REVISION_ADOPTED}"
        self.adoption.entries.append(LogItem(kind, entity, CanonicalText(snapshot), CanonicalText(fields)))
        self.adoption.revisions += 1

    async def _records(
        self, table: Table, entity_of: Callable[[Any], str], state_of: Callable[[Any], Any], counter: str
    ) -> None:
        async for rows in repository.stream_table(self.session, table):
            for row in rows:
                setattr(self.report, counter, getattr(self.report, counter) + 1)
                text = canonical(state_of(row))
                self._compare_state(entity_of(row), _digest(text), text)

    # 6. What the log holds and the database no longer does.
    def _leftovers(self) -> None:
        for entity, (position, entry_id, _) in self.latest.items():
            self.add(
                "record_missing",
                f"{entity}, logged by entry {entry_id}, is missing from the database: deleted",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )
        for (entity, number), (position, entry_id, _) in self.logged_revisions.items():
            if entity in self.latest:
                continue  # the record is gone, and its history with it: one problem says so
            self.add(
                "revision_missing",
                f"revision {number} of {entity}, logged by entry {entry_id}, is missing from the database: deleted",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )


def _decoded(values: dict[str, Any], json_columns: frozenset[str]) -> dict[str, Any]:
    """``values`` with its JSON documents (read as text) parsed as the service reads them (:func:`json_value`)."""
    for name in json_columns & values.keys():
        text = values[name]
        if text is not None:
            values[name] = json_value(text)
    return values


def _when(value: Any) -> str:
    return "none" if value is None else format_utc(value) if hasattr(value, "isoformat") else str(value)


def _month(period: Any) -> str:
    """A rollup cell's month, ``YYYY-MM`` (a datetime on PostgreSQL, its text on SQLite)."""
    return period.strftime("%Y-%m") if hasattr(period, "strftime") else str(period)[:7]


def _previous(checkpoints: dict[int, Any], position: int) -> int:
    return max((p for p in checkpoints if p < position), default=0)


def report_read(report: Report) -> IntegrityReport:
    """The report as the API (and `decision-log verify --json`) answers it."""
    problems = [IntegrityProblem.model_validate(p, from_attributes=True) for p in report.problems]
    return IntegrityReport(
        ok=report.ok,
        status=report.status,
        anchors=report.anchors,
        entries=report.entries,
        unsealed=report.unsealed,
        checkpoints=report.checkpoints,
        signed_position=report.signed_position,
        public_keys=report.public_keys,
        saved_checkpoint=report.saved_checkpoint,
        records=report.records,
        revisions=report.revisions,
        registries=report.registries,
        adopted=report.adopted,
        problem_count=report.problem_count,
        first_bad=problems[0] if problems else None,
        problems=problems[:REPORTED_PROBLEMS],
    )
