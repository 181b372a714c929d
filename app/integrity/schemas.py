from enum import StrEnum

from sqlmodel import Field, SQLModel


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


class IntegrityProblem(SQLModel):
    code: ProblemCode
    detail: str
    position: int | None = Field(description="Position in the chain, when the problem has one.")
    entry_id: int | None
    entity: str | None = Field(description="The record concerned: `decision/<id>`, `kpi/<key>`, …")


class IntegrityReport(SQLModel):
    ok: bool = Field(description="True when the chain, the checkpoints and every record verify.")
    entries: int = Field(description="Entries in the chain.")
    unsealed: int = Field(description="Entries written since the seal that ran before verification.")
    checkpoints: int
    signed_position: int | None = Field(description="The position of the latest signed checkpoint.")
    public_keys: list[str] = Field(description="The public keys (base64) checkpoint signatures were checked against.")
    records: int = Field(description="Decisions, KPIs and strategy versions compared with their latest log entry.")
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
