"""A forecast's figures as exact integers, as the forecast rollup (app/analytics/models.py) and the summary's day
rollup (app/analytics/day_rollup.py) keep them, and as calibration and the Brier score add them up from the
decisions."""

from __future__ import annotations

from sqlalchemy import BigInteger, case, cast, func, literal

from app.core.types import table_of
from app.decisions.models import Decision

decision = table_of(Decision)
RESULT = decision.c.outcome_result
# Its confidence and what was observed (1, 0.5 or 0) in millionths (a confidence counts to six places), the squared
# error in millionths squared. Exact sums are the same in whatever order they are added: from the rollups or the
# decisions.
SCALE = 1_000_000
CONFIDENCE_E6 = cast(func.round(decision.c.confidence * SCALE), BigInteger)
OBSERVED_E6 = case((RESULT == "success", SCALE), (RESULT == "partial", SCALE // 2), else_=0)
UNITS = {
    "forecasts": literal(1),
    "confidence_e6": CONFIDENCE_E6,
    "observed_e6": OBSERVED_E6,
    "squared_error_e12": (CONFIDENCE_E6 - OBSERVED_E6) * (CONFIDENCE_E6 - OBSERVED_E6),
}
