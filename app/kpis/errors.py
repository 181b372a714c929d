"""The errors of KPIs: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import NotFound


class KpiNotFound(NotFound):
    code = "kpi_not_found"
    title = "KPI not found"
