"""The tamper-evident log: recording entries on the write path, sealing them into the hash chain.

Write path: :func:`record` adds one ``integrity_entry`` row (canonical content + its hash) in the
write's own transaction, with no lock beyond the row it inserts: writers never wait for each other
here. The sealer (one process at a time) later links entries into the chain in commit order and
signs a checkpoint of the head. Verification lives in :mod:`app.integrity.verify`.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.core.config import Settings
from app.core.types import format_utc, utcnow
from app.core.unit_of_work import Database, DatabaseSession, transaction
from app.integrity import canonical as jcs
from app.integrity import repository, signing
from app.integrity.errors import CheckpointNotFound, CheckpointUnverifiable, SigningKeyNotConfigured
from app.integrity.schemas import CHECKPOINT_FORMAT, CheckpointRead, PublicKeyRead

logger = logging.getLogger("app.integrity")

GENESIS = bytes(32)  # the "previous chain hash" of position 1
SEAL_BATCH = 10_000  # links per sealing transaction
# An entry's transaction commits (or rolls back) within this many seconds of its INSERT (requests are
# bounded far sooner): the background sealer stops looking for late commits below ids seen this long ago.
SETTLE_SECONDS = 300.0


# ---------------------------------------------------------------------------------------------
# Canonical forms and hashes
# ---------------------------------------------------------------------------------------------


def canonical(value: Any) -> str:
    """RFC 8785 (JCS) text of a JSON value."""
    return jcs.dumps(value).decode("utf-8")


def entry_form(kind: str, entity: str, recorded_at: str, content: str, revision: str | None = None) -> bytes:
    """The canonical form of an entry, ``{"content", "entity", "kind", "recorded_at"}`` in JCS, plus ``"revision"``
    when the entry has one, built from the stored (already canonical) content and revision fields: JCS
    serialises members independently, keys sorted (``"revision"`` sorts last)."""
    parts = [
        b'{"content":',
        content.encode("utf-8"),
        b',"entity":',
        jcs.dumps(entity),
        b',"kind":',
        jcs.dumps(kind),
        b',"recorded_at":',
        jcs.dumps(recorded_at),
    ]
    if revision is not None:
        parts += [b',"revision":', revision.encode("utf-8")]
    parts.append(b"}")
    return b"".join(parts)


def entry_hash(kind: str, entity: str, recorded_at: str, content: str, revision: str | None = None) -> str:
    return hashlib.sha256(entry_form(kind, entity, recorded_at, content, revision)).hexdigest()


def chain_step(previous: bytes, entry_hash_hex: str) -> bytes:
    """``chain_hash[n] = SHA-256(chain_hash[n-1] || entry_hash[n])`` over the raw 32-byte digests."""
    return hashlib.sha256(previous + bytes.fromhex(entry_hash_hex)).digest()


# Entities: what each entry is about.
def decision_entity(decision_id: Any) -> str:
    return f"decision/{decision_id}"


def kpi_entity(key: str) -> str:
    return f"kpi/{key}"


def strategy_version_entity(key: str, number: int) -> str:
    return f"strategy/{key}/versions/{number}"


def strategy_entity(key: str) -> str:
    return f"strategy/{key}"


def person_entity(handle: str) -> str:
    return f"person/{handle}"


def contractor_entity(key: str) -> str:
    return f"contractor/{key}"


def data_source_entity(key: str) -> str:
    return f"data-source/{key}"


# ---------------------------------------------------------------------------------------------
# The write path
# ---------------------------------------------------------------------------------------------


class CanonicalText(str):
    """JSON already in its canonical form (read back from the log's own entries or revision rows), logged as it is."""

    __slots__ = ()


class LogItem(NamedTuple):
    """One write to the record, as the log keeps it."""

    kind: str  # what happened: `decision.created`, `kpi.revised`, `person.updated`, …
    entity: str  # to which record: `decision/<id>`, `kpi/<key>`, …
    content: Any  # the record's state as stored (its API form)
    # For a write that adds a revision row: that row's own fields besides the state (number, who, when, why,
    # what changed), so the history the API shows is bound to the log as well as the current state.
    revision: Any = None


def _canonical(value: Any) -> str:
    return str(value) if isinstance(value, CanonicalText) else canonical(value)


def _entry(item: LogItem, at: datetime) -> dict[str, Any]:
    text = _canonical(item.content)
    revision = None if item.revision is None else _canonical(item.revision)
    return {
        "kind": item.kind,
        "entity": item.entity,
        "recorded_at": at,
        "content": text,
        "revision": revision,
        "entry_hash": entry_hash(item.kind, item.entity, format_utc(at), text, revision),
    }


async def record(session: DatabaseSession, item: LogItem) -> None:
    """Append one entry for a write to the record, in the write's transaction."""
    await record_many(session, [item])


async def record_many(session: DatabaseSession, items: Iterable[LogItem]) -> None:
    """:func:`record` for several writes of one request, in one statement."""
    rows = entries(session, items)
    if rows:
        await repository.insert_entries(session, rows)


# Whether writes add their entries to the tamper-evident log: always, in the service. Only a benchmark turns it off,
# to measure what the log costs (bench/serve.py --no-integrity-log; verify then fails).
LOG_WRITES = True


def entries(session: DatabaseSession, items: Iterable[LogItem]) -> list[dict[str, Any]]:
    """The log's rows for these writes, for a repository that inserts them in the same statement as the write;
    none when the log is off (a benchmark's comparison: :data:`LOG_WRITES`)."""
    if not LOG_WRITES:
        return []
    now = utcnow()
    return [_entry(item, now) for item in items]


# ---------------------------------------------------------------------------------------------
# The sealer
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealResult:
    linked: int  # entries added to the chain by this call
    position: int  # the chain's length afterwards (0: empty, or another process was sealing)
    signed: bool  # whether a signed checkpoint of the head was written
    busy: bool = False  # another process held the sealer's lock: nothing done here


class Sealer:
    """Links unsealed entries into the chain, in commit order, and signs checkpoints of the head.

    Only one process seals at a time: a PostgreSQL advisory lock (another process holding it → skip this
    round); on SQLite the sealing transaction is the database's single writer.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.settings = database.settings
        self.key: Ed25519PrivateKey | None = signing.load_private_key(self.settings)
        self.public_key = signing.public_key_b64(self.key) if self.key is not None else None
        # (monotonic time, highest entry id seen then): entries below an id seen SETTLE_SECONDS ago are
        # all committed or gone, so the background rounds need not look at them again.
        self._seen: collections.deque[tuple[float, int]] = collections.deque()
        self._floor = 0

    async def seal(self, *, full: bool = True) -> SealResult:
        """Seal everything committed so far. ``full`` looks at every entry; the background rounds only at
        those above the settled floor."""
        linked = 0
        while True:
            result = await self._seal_batch(0 if full else self._floor)
            linked += result.linked
            if result.busy or result.linked < SEAL_BATCH:
                return SealResult(linked=linked, position=result.position, signed=result.signed, busy=result.busy)

    async def _seal_batch(self, floor: int) -> SealResult:
        limit = self.settings.statement_timeout_seconds + 1
        async with transaction(self.database, writes=True, wait_limit=limit) as session:
            if not await repository.try_seal_lock(session):
                return SealResult(linked=0, position=0, signed=False, busy=True)
            head = await repository.chain_head(session)
            position, previous = (head.position, bytes.fromhex(head.chain_hash)) if head else (0, GENESIS)
            pending = await repository.unsealed(session, floor=floor, limit=SEAL_BATCH)
            if pending:
                now = utcnow()
                links = []
                for entry_id, hash_hex in pending:
                    position += 1
                    previous = chain_step(previous, hash_hex)
                    links.append(
                        {"position": position, "entry_id": entry_id, "chain_hash": previous.hex(), "sealed_at": now}
                    )
                await repository.insert_links(session, links)
                self._note_seen(pending[-1][0])
            signed = False
            if self.key is not None and position > 0:
                latest = await repository.latest_checkpoint(session)
                if latest is None or latest.position < position:
                    await repository.insert_checkpoint(session, self._checkpoint(position, previous.hex()))
                    signed = True
            return SealResult(linked=len(pending), position=position, signed=signed)

    def _checkpoint(self, position: int, head_hash: str) -> dict[str, Any]:
        assert self.key is not None and self.public_key is not None
        signed_at = utcnow()
        message = signing.checkpoint_message(position, head_hash, signed_at, self.public_key)
        return {
            "position": position,
            "head_hash": head_hash,
            "signed_at": signed_at,
            "public_key": self.public_key,
            "signature": signing.sign(self.key, message),
        }

    def _note_seen(self, highest: int) -> None:
        now = time.monotonic()
        self._seen.append((now, highest))
        while self._seen and self._seen[0][0] <= now - SETTLE_SECONDS:
            self._floor = max(self._floor, self._seen.popleft()[1])

    async def run(self, interval: float) -> None:
        """Seal every ``interval`` seconds until cancelled; a failed round is logged and retried."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.seal(full=False)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database may be away: try again next round
                logger.warning("integrity sealer round failed: %s", error)


def warn_when_unsigned(sealer: Sealer) -> None:
    if sealer.key is None:
        logger.warning(
            "DECISION_LOG_SIGNING_KEY is not set: the integrity chain is kept, but its checkpoints are not "
            "signed, so a consistent rewrite of the whole log would go unnoticed. Create a key with "
            "`decision-log signing-key` and set it."
        )


def published_key(settings: Settings) -> PublicKeyRead:
    """The public half of the signing key, as GET /v1/integrity/public-key answers it."""
    key = signing.load_private_key(settings)
    if key is None:
        raise SigningKeyNotConfigured("This service signs no checkpoints: DECISION_LOG_SIGNING_KEY is not set.")
    public = signing.public_key_b64(key)
    return PublicKeyRead(
        algorithm=signing.ALGORITHM,
        public_key=public,
        public_key_pem=signing.public_key_pem(key),
        key_id=signing.key_id(public),
        trusted_keys=sorted({k.strip() for k in settings.integrity_trusted_keys if k.strip()} - {public}),
        message=signing.MESSAGE_DESCRIPTION,
    )


def checkpoint_read(row: Any) -> CheckpointRead:
    """A checkpoint as it is published: self-contained, so that a saved copy (or an event carrying it) can be
    checked with nothing but the public key, and later against the database (``decision-log verify --checkpoint``)."""
    return CheckpointRead(
        format=CHECKPOINT_FORMAT,
        position=row.position,
        head_hash=row.head_hash,
        signed_at=row.signed_at,
        algorithm=signing.ALGORITHM,
        public_key=row.public_key,
        key_id=signing.key_id(row.public_key),
        signature=row.signature,
    )


async def latest_checkpoint(session: DatabaseSession) -> CheckpointRead:
    """The latest signed checkpoint, once its signature verifies with a key this service trusts (its signing key,
    DECISION_LOG_INTEGRITY_TRUSTED_KEYS): the service publishes nothing the database alone could have forged."""
    trusted = set().union(*signing.configured_trust(session.settings).values())
    if not trusted:
        raise SigningKeyNotConfigured("This service signs no checkpoints: DECISION_LOG_SIGNING_KEY is not set.")
    row = await repository.latest_checkpoint(session)
    if row is None:
        raise CheckpointNotFound("No checkpoint has been signed yet: the sealer signs one once the log has entries.")
    valid = signing.checkpoint_valid(row.public_key, row.position, row.head_hash, row.signed_at, row.signature)
    if row.public_key not in trusted or not valid:
        raise CheckpointUnverifiable(
            f"The latest checkpoint in the database (position {row.position}) is not signed by a key this service "
            "trusts: the log may have been tampered with. Run `decision-log verify`."
        )
    return checkpoint_read(row)
