"""The errors of strategies: each carries its status and problem code."""

from __future__ import annotations

from app.core.errors import Conflict, NotFound


class StrategyNotFound(NotFound):
    code = "strategy_not_found"
    title = "Strategy not found"


class StrategyVersionNotFound(NotFound):
    code = "strategy_version_not_found"
    title = "Strategy version not found"


class DuplicateStrategy(Conflict):
    code = "duplicate_strategy"
    title = "Strategy already exists"
