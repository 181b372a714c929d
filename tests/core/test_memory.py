"""A started service keeps the cyclic garbage collector off what start-up built and off the requests in progress."""

import gc

from asgi_lifespan import LifespanManager

from app.core import memory
from app.main import create_app


async def test_start_up_freezes_what_it_built_and_raises_the_young_threshold(settings):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # CPython's defaults
    app = create_app(settings)
    async with LifespanManager(app):
        # Modules, routes, schemas and the engine: far more than the requests in progress will ever hold.
        assert gc.get_freeze_count() > 50_000
        assert gc.get_threshold() == (memory.YOUNG_THRESHOLD, 10, 10)
