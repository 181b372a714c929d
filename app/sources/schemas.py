from enum import StrEnum
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, WithJsonSchema

from app.core.text import STORABLE, Text
from app.core.types import UtcOutput


class DataSourceKind(StrEnum):
    analytics = "analytics"
    crm = "crm"
    ads = "ads"
    experiment = "experiment"
    survey = "survey"
    research = "research"
    finance = "finance"
    other = "other"


class DataSourceUpsert(BaseModel):
    """Register the data source or replace its details."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(min_length=1, max_length=200, blank=False)] = Field(examples=["Google Analytics 4"])
    kind: DataSourceKind
    # An http(s) address, internationalised ones too (an IRI): what is not ASCII is stored percent-encoded.
    url: Annotated[AnyHttpUrl, STORABLE, WithJsonSchema({"type": "string", "format": "iri"})] | None = Field(
        default=None,
        max_length=2000,
        examples=["https://analytics.google.com/"],
        description="An http or https address; characters outside ASCII are stored percent-encoded.",
    )


class DataSourceRead(BaseModel):
    key: str = Field(examples=["ga4"])
    name: str
    kind: DataSourceKind
    url: str | None
    created_at: UtcOutput
    updated_at: UtcOutput
