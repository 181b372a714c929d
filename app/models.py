"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from app.analytics.day_rollup import KpiRollup, KpiRollupDelta, SummaryRollup, SummaryRollupDelta
from app.analytics.models import BasisRollup, BasisRollupDelta, ForecastRollup, ForecastRollupDelta
from app.auth.models import ApiKey, SignInLink, WebSession
from app.contractors.models import Contractor
from app.decisions.models import Decision, DecisionRevision
from app.digest.models import DigestRun
from app.events.models import Event, ReviewDue
from app.idempotency.models import IdempotencyRecord
from app.integrity.models import IntegrityCheckpoint, IntegrityEntry, IntegrityLink
from app.kpis.models import Kpi, KpiRevision
from app.people.models import Person
from app.sources.models import DataSource
from app.strategies.models import Strategy, StrategyVersion
from app.webhooks.models import Webhook, WebhookAttempt, WebhookMessage

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "BasisRollup",
    "BasisRollupDelta",
    "Contractor",
    "DataSource",
    "Decision",
    "DecisionRevision",
    "DigestRun",
    "Event",
    "ForecastRollup",
    "ForecastRollupDelta",
    "IdempotencyRecord",
    "IntegrityCheckpoint",
    "IntegrityEntry",
    "IntegrityLink",
    "Kpi",
    "KpiRevision",
    "KpiRollup",
    "KpiRollupDelta",
    "Person",
    "ReviewDue",
    "SignInLink",
    "Strategy",
    "StrategyVersion",
    "SummaryRollup",
    "SummaryRollupDelta",
    "WebSession",
    "Webhook",
    "WebhookAttempt",
    "WebhookMessage",
    "metadata",
]
