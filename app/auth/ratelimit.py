"""Per-key rate limits (OWASP API4): 429 + ``Retry-After`` past ``DECISION_LOG_RATE_LIMIT``.

Counted in-process by default; with ``DECISION_LOG_REDIS_URL`` every process shares the counts
in Redis. Built on ``limits`` (the library behind slowapi), sliding-window counters.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from app.auth.errors import TooManyRequests


class RateLimiter:
    def __init__(self, rule: str, redis_url: str | None) -> None:
        self.item: RateLimitItem = parse(rule)
        storage = storage_from_string(f"async+{redis_url}") if redis_url else MemoryStorage()
        assert isinstance(storage, Storage)  # an ``async+`` URL always gives an asyncio storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.namespace = "decision-log"

    async def check(self, key_id: str) -> None:
        if await self.limiter.hit(self.item, self.namespace, key_id):
            return
        reset, _ = await self.limiter.get_window_stats(self.item, self.namespace, key_id)
        retry_after = max(1, math.ceil(reset - time.time()))
        raise TooManyRequests(
            f"This API key made more than {self.item} requests; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )


def from_settings(rule: str, redis_url: str | None) -> RateLimiter | None:
    return RateLimiter(rule, redis_url) if rule else None
