"""Every table, imported in one place so the metadata (and Alembic) sees them all."""

from sqlmodel import SQLModel

from app.auth.models import ApiKey
from app.decisions.models import Decision, DecisionRevision
from app.people.models import Person
from app.sources.models import DataSource

metadata = SQLModel.metadata

__all__ = ["ApiKey", "DataSource", "Decision", "DecisionRevision", "Person", "metadata"]
