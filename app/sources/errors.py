"""The errors of data sources: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import NotFound


class DataSourceNotFound(NotFound):
    code = "data_source_not_found"
    title = "Data source not found"
