"""The /v1 router: every domain's routes, visible in one place."""

from fastapi import APIRouter

from app.analytics.router import router as analytics
from app.auth.router import router as keys
from app.decisions.router import router as decisions
from app.exports.router import router as exports
from app.integrity.router import router as integrity
from app.kpis.router import router as kpis
from app.people.router import router as people
from app.sources.router import router as sources
from app.strategies.router import router as strategies

api_router = APIRouter(prefix="/v1")
api_router.include_router(people)
api_router.include_router(sources)
api_router.include_router(decisions)
api_router.include_router(strategies)
api_router.include_router(kpis)
api_router.include_router(exports)
api_router.include_router(analytics)
api_router.include_router(keys)
api_router.include_router(integrity)
