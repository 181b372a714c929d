"""CPython's cyclic garbage collector, set for a process that serves requests.

By default the collector runs each time the container objects allocated and not yet freed grow by 700. The
requests in progress hold thousands of those between them (32 concurrent creates do), so under load it ran every
few requests; every tenth run also scanned the middle generation, and every tenth of those every object of the
process, some 170,000 after start-up (modules, routes, schemas, the engine). bench/write.py measured 9 % of the
service's CPU in the collector, and its full runs in the p99 latency.

Objects are still freed by reference counting the moment nothing uses them: only reference cycles wait for the
collector, and the service's requests leave few.
"""

from __future__ import annotations

import gc

# The young generation is collected once the objects allocated and not freed since grow by this much: above what
# the requests in progress hold at a time, so that a collection finds garbage rather than live requests.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Once start-up is done: what it built lives as long as the process, so it moves to the collector's permanent
    generation (``gc.freeze``) and is never scanned again; and the young generation's threshold is raised."""
    gc.collect()  # start-up's own cycles, freed rather than frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
