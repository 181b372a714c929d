"""Verification: recompute the chain and the checkpoints from the database, and check that every record
(decision, KPI, strategy version) is in the state its latest log entry says.

One pass over the chain, streamed (memory: one digest per logged record), then one pass over each record
table. Everything is read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction on SQLite).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database, transaction
from app.core.types import format_utc, table_of
from app.decisions.models import Decision
from app.decisions.service import to_read as decision_state
from app.integrity import repository, signing
from app.integrity.service import (
    GENESIS,
    Sealer,
    canonical,
    chain_step,
    decision_entity,
    entry_form,
    kpi_entity,
    strategy_version_entity,
)
from app.kpis.models import Kpi
from app.kpis.service import _read as kpi_state
from app.strategies.models import StrategyVersion
from app.strategies.service import _version as strategy_version_state

MAX_PROBLEMS = 1000
REPORTED_PROBLEMS = 20


@dataclass(slots=True)
class Problem:
    code: str
    detail: str
    position: int | None = None  # in the chain
    entry_id: int | None = None
    entity: str | None = None


@dataclass(slots=True)
class Report:
    entries: int = 0  # the chain's length
    unsealed: int = 0  # entries not yet in the chain (written since the seal)
    checkpoints: int = 0
    signed_position: int | None = None  # the latest checkpoint's position
    public_keys: list[str] = field(default_factory=list)  # the keys checkpoints were checked against
    records: int = 0  # decisions, KPIs and strategy versions compared with their latest entry
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_bad(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


# Fields the logged states gained after the log began (a decision's `recorded_by`): an entry written before a
# field existed is compared with the record without it; an entry written since carries it and is compared whole.
# In canonical JSON a key is the only place the text `"name":` can stand (a quote inside a string is escaped).
ADDED_FIELDS = ("recorded_by",)


def _logged(content: str) -> tuple[bytes, tuple[str, ...]]:
    """The digest of a logged state, and the fields added since that the entry does not carry."""
    return _digest(content), tuple(name for name in ADDED_FIELDS if f'"{name}":' not in content)


# The records the log speaks for: their table, entity name and current state (the content a write logs).
RECORDS: list[tuple[Any, Callable[[Any], str], Callable[[Any], Any]]] = [
    (table_of(Decision), lambda row: decision_entity(row.id), lambda row: decision_state(row)),
    (table_of(Kpi), lambda row: kpi_entity(row.key), lambda row: kpi_state(row)),
    (
        table_of(StrategyVersion),
        lambda row: strategy_version_entity(row.strategy_key, row.number),
        lambda row: strategy_version_state(row),
    ),
]


async def verify_database(database: Database, *, seal: bool = True) -> Report:
    """Seal what is pending (unless ``seal`` is false), then verify everything."""
    sealer = Sealer(database)
    if seal:
        await sealer.seal(full=True)
    trusted = signing.trusted_public_keys(database.settings, sealer.key)
    async with transaction(database, writes=False) as session:
        if database.dialect == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        report = await verify_session(session, trusted)
    return report


async def verify_session(session: AsyncSession, trusted: set[str]) -> Report:
    report = Report(public_keys=sorted(trusted))
    checkpoints = {row.position: row for row in await repository.checkpoints(session)}
    report.checkpoints = len(checkpoints)
    report.signed_position = max(checkpoints, default=None)
    # entity → (position, entry id, content digest, fields added since that the entry does not carry)
    latest: dict[str, tuple[int | None, int, bytes, tuple[str, ...]]] = {}

    # 1. The chain, position by position.
    computed = GENESIS
    expected_position = 1
    broken = False  # past the first break, chain hashes and checkpoints cannot be compared any more
    last_good_checkpoint = 0
    async for rows in repository.stream_chain(session):
        for position, entry_id, chain_hash, present, kind, entity, recorded_at, content, stored_hash in rows:
            if position != expected_position and not broken:
                report.add(
                    Problem(
                        "link_missing",
                        f"the chain jumps from position {expected_position - 1} to {position}: "
                        f"position {expected_position} (and any up to {position - 1}) was deleted",
                        position=expected_position,
                    )
                )
                broken = True
            expected_position = position + 1
            if present is None:
                report.add(
                    Problem(
                        "entry_missing",
                        f"entry {entry_id} at position {position} was deleted",
                        position=position,
                        entry_id=entry_id,
                    )
                )
                broken = True
                continue
            actual = hashlib.sha256(entry_form(kind, entity, format_utc(recorded_at), content)).hexdigest()
            if actual != stored_hash:
                report.add(
                    Problem(
                        "entry_altered",
                        f"entry {entry_id} at position {position} ({kind} {entity}) does not match its hash: "
                        "altered or forged",
                        position=position,
                        entry_id=entry_id,
                        entity=entity,
                    )
                )
            latest[entity] = (position, entry_id, *_logged(content))
            if broken:
                continue
            computed = chain_step(computed, actual)
            if computed.hex() != chain_hash:
                report.add(
                    Problem(
                        "chain_broken",
                        f"the chain breaks at position {position} (entry {entry_id}, {kind} {entity}): entries "
                        "altered, swapped, inserted or removed",
                        position=position,
                        entry_id=entry_id,
                        entity=entity,
                    )
                )
                broken = True
                continue
            checkpoint = checkpoints.get(position)
            if checkpoint is not None:
                if checkpoint.head_hash != chain_hash:
                    report.add(
                        Problem(
                            "checkpoint_mismatch",
                            f"the chain's head at position {position} differs from the signed checkpoint: the log "
                            f"was rewritten between positions {last_good_checkpoint + 1} and {position}",
                            position=position,
                            entry_id=entry_id,
                            entity=entity,
                        )
                    )
                    broken = True
                else:
                    last_good_checkpoint = position
    report.entries = expected_position - 1

    # 2. The checkpoints: signed by a trusted key, none beyond the chain.
    for position, checkpoint in checkpoints.items():
        message = signing.checkpoint_message(
            position, checkpoint.head_hash, checkpoint.signed_at, checkpoint.public_key
        )
        if trusted and checkpoint.public_key not in trusted:
            report.add(
                Problem(
                    "checkpoint_untrusted_key",
                    f"the checkpoint at position {position} is signed by an unknown key "
                    f"({signing.key_id(checkpoint.public_key)}): the log was rewritten and re-signed",
                    position=position,
                )
            )
        elif not signing.signature_valid(checkpoint.public_key, message, checkpoint.signature):
            report.add(
                Problem(
                    "checkpoint_signature_invalid",
                    f"the checkpoint at position {position} does not match its signature: the log was rewritten "
                    f"(between positions {_previous(checkpoints, position) + 1} and {position})",
                    position=position,
                )
            )
        if position > report.entries:
            report.add(
                Problem(
                    "chain_truncated",
                    f"a checkpoint covers {position} entries, the chain holds {report.entries}: "
                    f"entries from position {report.entries + 1} on were removed",
                    position=report.entries + 1,
                )
            )

    # 3. Entries written since the seal (their transactions committed after it): checked, kept as latest state.
    async for rows in repository.stream_unlinked(session):
        for entry_id, kind, entity, recorded_at, content, stored_hash in rows:
            report.unsealed += 1
            actual = hashlib.sha256(entry_form(kind, entity, format_utc(recorded_at), content)).hexdigest()
            if actual != stored_hash:
                report.add(
                    Problem(
                        "entry_altered",
                        f"unsealed entry {entry_id} ({kind} {entity}) does not match its hash: altered or forged",
                        entry_id=entry_id,
                        entity=entity,
                    )
                )
            latest[entity] = (None, entry_id, *_logged(content))

    # 4. Every record is in the state its latest entry says, and every logged record still exists.
    for table, entity_of, state_of in RECORDS:
        async for rows in repository.stream_table(session, table):
            for row in rows:
                report.records += 1
                entity = entity_of(row)
                logged = latest.pop(entity, None)
                if logged is None:
                    report.add(Problem("record_not_logged", f"{entity} has no entry in the log", entity=entity))
                    continue
                position, entry_id, digest, not_logged = logged
                state = state_of(row).model_dump(mode="json")
                for name in not_logged:
                    state.pop(name, None)
                if _digest(canonical(state)) != digest:
                    report.add(
                        Problem(
                            "record_differs",
                            f"{entity} differs from its latest logged state (entry {entry_id}): changed behind the "
                            "service's back",
                            position=position,
                            entry_id=entry_id,
                            entity=entity,
                        )
                    )
    for entity, (position, entry_id, _, _) in latest.items():
        report.add(
            Problem(
                "record_missing",
                f"{entity}, logged by entry {entry_id}, is missing from the database: deleted",
                position=position,
                entry_id=entry_id,
                entity=entity,
            )
        )
    report.problems.sort(key=lambda p: math.inf if p.position is None else p.position)
    return report


def _previous(checkpoints: dict[int, Any], position: int) -> int:
    return max((p for p in checkpoints if p < position), default=0)
