"""Tamper evidence: the checkpoint signing key, the latest signed checkpoint, and verification of the log against
the record."""

from typing import Annotated

from fastapi import Depends, Request, Response

from app.auth.dependencies import AdminCaller, require_scope
from app.auth.scopes import Scope
from app.auth.service import Caller
from app.core.errors import problem_responses
from app.core.http import etag_of
from app.core.routing import SessionDep, domain_router
from app.integrity import service, verify
from app.integrity.schemas import CheckpointRead, IntegrityReport, PublicKeyRead

router = domain_router(prefix="/integrity", tags=["integrity"], long_queries=True)

# The `analytics` scope, from a header only: the `api_key` query parameter is for BI tools that can send a key no
# other way, and whoever saves checkpoints runs a script that can.
CheckpointReader = Annotated[Caller, Depends(require_scope(Scope.analytics))]


@router.get("/public-key", operation_id="getIntegrityPublicKey", responses=problem_responses(404))
async def get_public_key(request: Request) -> PublicKeyRead:
    """The Ed25519 public key that verifies the log's signed checkpoints. Public: no key needed.

    404 `signing_key_not_configured` when the service runs without `DECISION_LOG_SIGNING_KEY`."""
    return service.published_key(request.app.state.db.settings)


@router.get(
    "/checkpoints/latest",
    operation_id="getLatestIntegrityCheckpoint",
    responses={
        200: {"headers": {"ETag": {"description": "Entity tag of the checkpoint.", "schema": {"type": "string"}}}},
        **problem_responses(404, 409),
    },
)
async def get_latest_checkpoint(session: SessionDep, _: CheckpointReader, response: Response) -> CheckpointRead:
    """The latest signed checkpoint of the log (scope `analytics`: it tells how many writes the log holds, as an
    aggregate does). Save the answer as it is, e.g.
    `curl -s -H "Authorization: Bearer $KEY" …/v1/integrity/checkpoints/latest > checkpoint.json`; later,
    `decision-log verify --checkpoint checkpoint.json` proves that the database still holds this checkpoint and
    extends it: a log rolled back or rewritten since fails, even with its own checkpoints removed.

    Checked before it is published: 404 `signing_key_not_configured` without `DECISION_LOG_SIGNING_KEY`,
    404 `checkpoint_not_found` before the first one is signed, 409 `checkpoint_unverifiable` when the latest one
    in the database is not signed by a key this service trusts (the log was tampered with)."""
    checkpoint = await service.latest_checkpoint(session)
    response.headers["ETag"] = etag_of(checkpoint.position, checkpoint.signature)
    return checkpoint


@router.get("/verify", operation_id="verifyIntegrity", responses=problem_responses())
async def verify_integrity(request: Request, _: AdminCaller) -> IntegrityReport:
    """Seal pending entries, then recompute the hash chain and the signed checkpoints, and compare with the log
    every decision, KPI, strategy, strategy version, person and data source, every decision and KPI revision,
    the columns derived from them and the basis and forecast rollups. Trust comes from the service's settings (its
    signing key and `DECISION_LOG_INTEGRITY_TRUSTED_KEYS`): without either, `status` is `unanchored`. `ok` false
    names the first bad entry."""
    report = await verify.verify_database(request.app.state.db)
    return verify.report_read(report)
