from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.auth.service import Caller
from app.core.errors import PreconditionFailed, UnknownReference
from app.core.http import check_if_match, etag_of
from app.core.types import column_getter, format_utc, utcnow
from app.core.unit_of_work import DatabaseSession
from app.events import service as events
from app.events.schemas import EventType
from app.integrity import service as integrity
from app.kpis import repository
from app.kpis.errors import KpiNotFound
from app.kpis.schemas import KpiPut, KpiRead, KpiRevisionRead
from app.people import repository as people

FIELDS = ("name", "unit", "kind", "target", "direction", "owner")


def etag(kpi: KpiRead) -> str:
    return etag_of(kpi.key, kpi.revision)


def _read(row: Any) -> KpiRead:
    """The API shape of a stored KPI (a result row, or its columns by name)."""
    get = column_getter(row)
    return KpiRead(
        key=get("key"),
        name=get("name"),
        unit=get("unit"),
        kind=get("kind"),
        target=get("target"),
        direction=get("direction"),
        owner=get("owner_handle"),
        revision=get("revision"),
        created_at=get("created_at"),
        updated_at=get("updated_at"),
    )


def _columns(data: KpiPut) -> dict[str, Any]:
    return {
        "name": data.name,
        "unit": data.unit,
        "kind": data.kind.value,
        "target": data.target,
        "direction": data.direction.value if data.direction else None,
        "owner_handle": data.owner,
    }


async def put_kpi(
    session: DatabaseSession, key: str, data: KpiPut, caller: Caller, if_match: str | None
) -> tuple[KpiRead, bool]:
    """Create the KPI (revision 1) or record a revision; a PUT that changes nothing records nothing."""
    if data.owner is not None and not await people.teams_of(session, {data.owner}):
        raise UnknownReference.field(["body", "owner"], f"unknown person {data.owner!r}")
    row = await repository.get(session, key, for_update=True)
    # The time is read once the row is locked, so revisions are in time order whatever the races.
    now = utcnow()
    if row is None:
        if if_match is not None:  # RFC 9110: even `*` fails when there is no current representation
            raise PreconditionFailed(f"KPI {key!r} does not exist yet: send the PUT without If-Match to create it.")
        values = {"key": key, **_columns(data), "revision": 1, "created_at": now, "updated_at": now}
        if await repository.insert(session, values):
            created = KpiRead(**{**values, "owner": data.owner})
            changes = {
                name: {"from": None, "to": value} for name, value in _public(created).items() if value is not None
            }
            await _record(session, created, now, caller, data.change_reason, changes)
            return created, True
        row = await repository.get(session, key, for_update=True)
        assert row is not None
        now = utcnow()
    current = _read(row)
    check_if_match(if_match, etag(current))
    candidate = current.model_copy(
        update={
            "name": data.name,
            "unit": data.unit,
            "kind": data.kind,
            "target": data.target,
            "direction": data.direction,
            "owner": data.owner,
            "revision": current.revision + 1,
            "updated_at": now,
        }
    )
    before, after = _public(current), _public(candidate)
    changes = {name: {"from": before[name], "to": after[name]} for name in FIELDS if before[name] != after[name]}
    if not changes:
        return current, False
    await repository.update_kpi(session, key, {**_columns(data), "revision": candidate.revision, "updated_at": now})
    await _record(session, candidate, now, caller, data.change_reason, changes)
    return candidate, False


def _public(kpi: KpiRead) -> dict[str, Any]:
    dumped = kpi.model_dump(mode="json")
    return {name: dumped[name] for name in FIELDS}


async def _record(
    session: DatabaseSession, kpi: KpiRead, at: datetime, caller: Caller, reason: str | None, changes: dict[str, Any]
) -> None:
    """Every KPI write ends here: its revision, and its entry in the tamper-evident log."""
    snapshot = kpi.model_dump(mode="json")
    revision = {
        "kpi_key": kpi.key,
        "revision": kpi.revision,
        "changed_at": at,
        "changed_by": caller.name,
        "change_reason": reason,
        "changes": changes,
        "snapshot": snapshot,
    }
    await repository.insert_revision(session, revision)
    kind = "kpi.created" if kpi.revision == 1 else "kpi.revised"
    fields = revision_fields(revision)
    await integrity.record(session, integrity.LogItem(kind, integrity.kpi_entity(kpi.key), snapshot, fields))
    signal = {"kpi": snapshot, **fields, "explained": kpi.revision == 1 or events.explained(reason)}
    await events.emit(session, events.NewEvent(EventType(kind), integrity.kpi_entity(kpi.key), signal))


def revision_fields(revision: Mapping[str, Any]) -> dict[str, Any]:
    """A KPI revision's fields besides its snapshot, as the tamper-evident log binds them: what
    ``GET /v1/kpis/{key}/revisions`` shows of it besides ``kpi``. From the row being written or read."""
    return {
        "revision": revision["revision"],
        "changed_at": format_utc(revision["changed_at"]),
        "changed_by": revision["changed_by"],
        "change_reason": revision["change_reason"],
        "changes": revision["changes"],
    }


async def get_kpi(session: DatabaseSession, key: str, at: datetime | None = None) -> KpiRead:
    if at is not None:
        snapshot = await repository.snapshot_at(session, key, at)
        if snapshot is None:
            await get_kpi(session, key)
            raise KpiNotFound(f"KPI {key!r} did not exist at {format_utc(at)}.")
        return KpiRead.model_validate(snapshot)
    row = await repository.get(session, key)
    if row is None:
        raise KpiNotFound(f"No KPI with key {key!r}.")
    return _read(row)


async def list_kpis(
    session: DatabaseSession, *, kind: str | None, owner: str | None, limit: int, cursor: str | None
) -> tuple[list[KpiRead], str | None]:
    rows, next_cursor = await repository.list_page(session, kind=kind, owner=owner, limit=limit, cursor=cursor)
    return [_read(row) for row in rows], next_cursor


async def list_revisions(
    session: DatabaseSession, key: str, *, limit: int, cursor: str | None
) -> tuple[list[KpiRevisionRead], str | None]:
    await get_kpi(session, key)
    rows, next_cursor = await repository.revisions_page(session, key, limit=limit, cursor=cursor)
    items = [
        KpiRevisionRead.model_validate(
            {
                "revision": row.revision,
                "changed_at": row.changed_at,
                "changed_by": row.changed_by,
                "change_reason": row.change_reason,
                "changes": row.changes,
                "kpi": row.snapshot,
            }
        )
        for row in rows
    ]
    return items, next_cursor
