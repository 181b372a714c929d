"""SQL of the digest: the largest budgets decided on emotions, and the weekly runs (sent once per week)."""

from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, insert_or_nothing
from app.core.types import AnyRow, table_of
from app.decisions.classification import BasisClass
from app.decisions.repository import DecisionFilters, apply_filters, decision
from app.digest.models import DigestRun
from app.events.repository import event
from app.people.models import Person

digest_run = table_of(DigestRun)
person = table_of(Person)


async def emotional_budgets(
    session: AsyncSession, start: datetime, end: datetime, *, currency: str | None, limit: int
) -> list[AnyRow]:
    """Decisions of class ``emotion`` decided in [start, end) with a budget, largest first: those in ``currency``
    first (amounts in different currencies are not compared), then the others by amount."""
    filters = DecisionFilters(basis_class=BasisClass.emotion.value, decided_from=start, decided_to=end)
    statement = apply_filters(select(decision), filters, dialect_of(session))
    in_currency = case((decision.c.budget_currency == currency, 0), else_=1) if currency else literal(1)
    statement = (
        statement.where(decision.c.budget_amount.is_not(None))
        .order_by(in_currency, decision.c.budget_amount.desc(), decision.c.decided_at, decision.c.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def recipients(session: AsyncSession) -> list[str]:
    """The e-mail addresses of the active people who asked for the digest."""
    statement = (
        select(person.c.email)
        .where(person.c.active.is_(True), person.c.digest.is_(True), person.c.email.is_not(None), person.c.email != "")
        .order_by(person.c.email)
        .distinct()
    )
    return [row[0] for row in (await session.execute(statement)).all()]


async def insert_run(session: AsyncSession, values: dict[str, Any]) -> bool:
    """The week's run; False when another process wrote it first (the primary key refuses a second)."""
    statement = insert_or_nothing(dialect_of(session), digest_run, digest_run.c.period_start)
    return (await session.execute(statement, values)).first() is not None


async def runs_to_mail(session: AsyncSession) -> list[AnyRow]:
    """Runs whose e-mails are not all sent, oldest first."""
    statement = select(digest_run).where(digest_run.c.mailed_at.is_(None)).order_by(digest_run.c.period_start)
    return list((await session.execute(statement)).all())


async def claim_mail(session: AsyncSession, period_start: str, now: datetime, until: datetime) -> bool:
    """Take the run's e-mailing until ``until`` unless another process holds it: True when taken."""
    statement = (
        update(digest_run)
        .where(
            digest_run.c.period_start == period_start,
            digest_run.c.mailed_at.is_(None),
            or_(digest_run.c.mail_claimed_until.is_(None), digest_run.c.mail_claimed_until < now),
        )
        .values(mail_claimed_until=until)
    )
    return (await session.execute(statement)).rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def mailed(session: AsyncSession, period_start: str, mailed_to: list[str]) -> None:
    """Record the addresses sent to so far (a retry skips them)."""
    await session.execute(
        update(digest_run).where(digest_run.c.period_start == period_start).values(mailed_to=mailed_to)
    )


async def finish_mail(session: AsyncSession, period_start: str, *, at: datetime | None, error: str | None) -> None:
    """The run's e-mailing done (``at``), or failed with ``error`` (tried again next round); the claim released."""
    values: dict[str, Any] = {"mail_claimed_until": None, "mail_error": error, "mailed_at": at}
    if error is not None:
        values["mail_attempts"] = digest_run.c.mail_attempts + 1
    await session.execute(update(digest_run).where(digest_run.c.period_start == period_start).values(values))


async def run_exists(session: AsyncSession, period_start: str) -> bool:
    statement = select(digest_run.c.period_start).where(digest_run.c.period_start == period_start)
    return (await session.execute(statement)).first() is not None


async def run(session: AsyncSession, period_start: str) -> AnyRow:
    return (await session.execute(select(digest_run).where(digest_run.c.period_start == period_start))).one()


async def event_data(session: AsyncSession, event_id: Any) -> dict[str, Any] | None:
    """The data of the run's ``digest.weekly`` event (what webhooks were sent, and what is e-mailed); None when the
    feed no longer holds it (a restored database starts a feed of its own)."""
    data: dict[str, Any] | None = (
        await session.execute(select(event.c.data).where(event.c.id == event_id))
    ).scalar_one_or_none()
    return data
