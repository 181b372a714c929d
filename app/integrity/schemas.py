from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from app.core.types import UtcInput, UtcOutput

CHECKPOINT_FORMAT = "decision-log checkpoint v1"


class ProblemCode(StrEnum):
    link_missing = "link_missing"
    entry_missing = "entry_missing"
    entry_altered = "entry_altered"
    chain_broken = "chain_broken"
    checkpoint_mismatch = "checkpoint_mismatch"
    checkpoint_untrusted_key = "checkpoint_untrusted_key"
    checkpoint_signature_invalid = "checkpoint_signature_invalid"
    chain_truncated = "chain_truncated"
    record_not_logged = "record_not_logged"
    record_differs = "record_differs"
    record_missing = "record_missing"
    revision_not_logged = "revision_not_logged"
    revision_differs = "revision_differs"
    revision_missing = "revision_missing"
    derived_differs = "derived_differs"
    rollup_differs = "rollup_differs"
    saved_checkpoint_rolled_back = "saved_checkpoint_rolled_back"
    saved_checkpoint_mismatch = "saved_checkpoint_mismatch"
    saved_checkpoint_untrusted_key = "saved_checkpoint_untrusted_key"
    saved_checkpoint_signature_invalid = "saved_checkpoint_signature_invalid"


class TrustAnchor(StrEnum):
    """Where verification's trust came from: never the database itself."""

    signing_key = "signing_key"  # DECISION_LOG_SIGNING_KEY: its public half
    trusted_keys = "trusted_keys"  # DECISION_LOG_INTEGRITY_TRUSTED_KEYS
    trusted_key_option = "trusted_key_option"  # decision-log verify --trusted-key
    saved_checkpoint = "saved_checkpoint"  # decision-log verify --checkpoint FILE


class VerificationStatus(StrEnum):
    verified = "verified"
    unanchored = "unanchored"
    failed = "failed"


class IntegrityProblem(SQLModel):
    code: ProblemCode
    detail: str
    position: int | None = Field(description="Position in the chain, when the problem has one.")
    entry_id: int | None
    entity: str | None = Field(
        description="The record concerned: `decision/<id>`, `kpi/<key>`, `person/<handle>`, `basis_rollup/…`, …"
    )


class SavedCheckpointResult(SQLModel):
    position: int
    head_hash: str
    contained: bool = Field(description="The database's chain still holds this checkpoint and extends it.")


class IntegrityReport(SQLModel):
    ok: bool = Field(
        description="True when everything verifies against a trust anchor: `status` is `verified`. False when a "
        "problem was found, and when nothing outside the database anchored the verification (`unanchored`)."
    )
    status: VerificationStatus = Field(
        description="`verified`: no problem, and trust came from outside the database (`anchors`). `unanchored`: "
        "no problem found, but without a trusted key or a saved checkpoint, so a log rewritten and re-signed as a "
        "whole would pass too. `failed`: problems found (`first_bad`)."
    )
    anchors: list[TrustAnchor] = Field(
        description="Where trust came from: the service's signing key and trusted keys (settings), keys and a saved "
        "checkpoint given to `decision-log verify`. Empty: unanchored."
    )
    entries: int = Field(description="Entries in the chain.")
    unsealed: int = Field(description="Entries written since the seal that ran before verification.")
    checkpoints: int
    signed_position: int | None = Field(description="The position of the latest signed checkpoint.")
    public_keys: list[str] = Field(
        description="The trusted public keys (base64) checkpoint signatures were checked against."
    )
    saved_checkpoint: SavedCheckpointResult | None = Field(
        description="The checkpoint saved earlier that the database was checked against, if any."
    )
    records: int = Field(description="Decisions, KPIs and strategy versions compared with their latest log entry.")
    revisions: int = Field(description="Decision and KPI revisions compared with their log entries.")
    registries: int = Field(
        description="People, data sources, contractors and strategies compared with their latest log entry."
    )
    adopted: int = Field(
        description="Adoption entries in the log: records and revisions an operator had the log vouch for as they "
        "stood (`decision-log verify --adopt`, after upgrading from a version that logged less), rather than "
        "logged by the service when they were written."
    )
    problem_count: int
    first_bad: IntegrityProblem | None = Field(description="The first problem, in chain order.")
    problems: list[IntegrityProblem] = Field(description="The first problems, in chain order (at most 20).")


class PublicKeyRead(SQLModel):
    algorithm: str = Field(description="Always `Ed25519`.")
    public_key: str = Field(description="The raw 32-byte public key, base64.")
    public_key_pem: str = Field(description="The same key as PEM (SubjectPublicKeyInfo).")
    key_id: str = Field(description="First 16 hex digits of the SHA-256 of the raw public key.")
    trusted_keys: list[str] = Field(description="Earlier keys whose checkpoints still verify (base64).")
    message: str = Field(
        description="What a checkpoint signature covers: the bytes `decision-log checkpoint v1\\n` followed by the "
        'RFC 8785 form of `{"head_hash", "position", "public_key", "signed_at"}`.'
    )


HeadHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class CheckpointRead(BaseModel):
    """A signed checkpoint of the log, as published: save it, and later prove with
    `decision-log verify --checkpoint FILE` that the database still holds and extends it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "format": CHECKPOINT_FORMAT,
                    "position": 15,
                    "head_hash": "5d0c3fa7b7e1a0c0d47d9a3bd8e16b7b4c3b8f2e0d1a9c6e5f4b3a2918273645",
                    "signed_at": "2026-03-01T10:00:05.123456Z",
                    "algorithm": "Ed25519",
                    "public_key": "O3REDrkk+/lga1zOctG6+rY6cCum9L2Qz75trU0H39Y=",
                    "key_id": "98c7685344488786",
                    "signature": "UcBlPBr6GCuBorRgFIP+Tl0ywikOXUepzwRO7PeaUIFHtKuWKXQVU5kEaN/mhjdIuPd1pzhy8Qga"
                    "/G/n8usACQ==",
                }
            ]
        }
    )

    format: Literal["decision-log checkpoint v1"] = Field(
        description="What this object is; the signature's message starts with it."
    )
    position: int = Field(ge=1, description="The number of log entries the checkpoint covers.")
    head_hash: HeadHash = Field(
        description="SHA-256 (hex) of the hash chain at `position`: `chain[n] = SHA-256(chain[n-1] || entry_hash[n])`, "
        "32 zero bytes before position 1."
    )
    signed_at: UtcOutput
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="The signer's raw 32-byte Ed25519 public key, base64.")
    key_id: str = Field(description="First 16 hex digits of the SHA-256 of the raw public key.")
    signature: str = Field(
        description='Base64 Ed25519 signature of the bytes "decision-log checkpoint v1\\n" followed by the RFC 8785 '
        'form of {"head_hash", "position", "public_key", "signed_at"}.'
    )


class SavedCheckpoint(CheckpointRead):
    """A checkpoint read back from a file: what `GET /v1/integrity/checkpoints/latest` answered (other members,
    such as an event's `id`, are ignored)."""

    model_config = ConfigDict(extra="ignore")

    signed_at: UtcInput
