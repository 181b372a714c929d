"""The pages the service serves under ``/ui/`` for the people who run marketing (DESIGN.md, "The owner's view")."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import decisions, keys, registers
from app.web.rendering import STATIC, STATIC_PREFIX
from app.web.router import fallback, router


def include_pages(app: FastAPI) -> None:
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC), name="static")  # before the pages' catch-all
    app.include_router(router)
    app.include_router(decisions.router)
    app.include_router(registers.router)
    app.include_router(keys.router)
    app.include_router(fallback)  # last: any other address under /ui/
