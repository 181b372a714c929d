"""Tamper evidence: the checkpoint signing key, and verification of the log against the record."""

from fastapi import Request

from app.auth.dependencies import AdminCaller
from app.core.errors import NotFound, problem_responses
from app.core.routing import domain_router
from app.integrity import service, verify
from app.integrity.schemas import IntegrityProblem, IntegrityReport, PublicKeyRead

router = domain_router(prefix="/integrity", tags=["integrity"], long_queries=True)


class SigningKeyNotConfigured(NotFound):
    code = "signing_key_not_configured"
    title = "No signing key configured"


@router.get("/public-key", operation_id="getIntegrityPublicKey", responses=problem_responses(404))
async def get_public_key(request: Request) -> PublicKeyRead:
    """The Ed25519 public key that verifies the log's signed checkpoints. Public: no key needed.

    404 `signing_key_not_configured` when the service runs without `DECISION_LOG_SIGNING_KEY`."""
    published = service.published_key(request.app.state.db.settings)
    if published is None:
        raise SigningKeyNotConfigured("This service signs no checkpoints: DECISION_LOG_SIGNING_KEY is not set.")
    return published


@router.get("/verify", operation_id="verifyIntegrity", responses=problem_responses())
async def verify_integrity(request: Request, _: AdminCaller) -> IntegrityReport:
    """Seal pending entries, then recompute the hash chain and the signed checkpoints, and compare every
    decision, KPI and strategy version with its latest log entry. `ok` false names the first bad entry."""
    report = await verify.verify_database(request.app.state.db)
    problems = [IntegrityProblem.model_validate(p, from_attributes=True) for p in report.problems]
    return IntegrityReport(
        ok=report.ok,
        entries=report.entries,
        unsealed=report.unsealed,
        checkpoints=report.checkpoints,
        signed_position=report.signed_position,
        public_keys=report.public_keys,
        records=report.records,
        problem_count=report.problem_count,
        first_bad=problems[0] if problems else None,
        problems=problems[: verify.REPORTED_PROBLEMS],
    )
