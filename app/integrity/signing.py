"""Ed25519 checkpoint signatures: the key from settings, the signed message, verification."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.config import Settings
from app.core.types import format_utc
from app.integrity import canonical as jcs
from app.integrity.errors import SigningKeyInvalid

ALGORITHM = "Ed25519"
# What a checkpoint signature covers: this prefix, then the RFC 8785 form of
# {"head_hash", "position", "public_key", "signed_at"}.
MESSAGE_PREFIX = b"decision-log checkpoint v1\n"
MESSAGE_DESCRIPTION = (
    'the bytes "decision-log checkpoint v1\\n", then the RFC 8785 form of '
    '{"head_hash": <hex>, "position": <int>, "public_key": <base64>, "signed_at": <UTC timestamp>}'
)


def load_private_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The configured signing key; None when none is configured."""
    if settings.signing_key is None or not settings.signing_key.get_secret_value().strip():
        return None
    value = settings.signing_key.get_secret_value().strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(value.encode(), password=None)
        except (ValueError, TypeError) as error:
            raise SigningKeyInvalid(f"DECISION_LOG_SIGNING_KEY is not a readable PEM key: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyInvalid("DECISION_LOG_SIGNING_KEY is a PEM key, but not an Ed25519 one")
        return key
    try:
        seed = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SigningKeyInvalid("DECISION_LOG_SIGNING_KEY is neither PEM nor base64") from None
    if len(seed) != 32:
        raise SigningKeyInvalid(f"DECISION_LOG_SIGNING_KEY must hold a 32-byte Ed25519 seed, not {len(seed)} bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_private_key_b64(value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(value, validate=True))


def new_private_key_b64() -> str:
    """A fresh signing key, in the form DECISION_LOG_SIGNING_KEY takes."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(seed).decode()


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id(public_b64: str) -> str:
    """A short name for a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def checkpoint_message(position: int, head_hash: str, signed_at: datetime, public_b64: str) -> bytes:
    body = {"head_hash": head_hash, "position": position, "public_key": public_b64, "signed_at": format_utc(signed_at)}
    return MESSAGE_PREFIX + jcs.dumps(body)


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def signature_valid(public_b64: str, message: bytes, signature_b64: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64, validate=True))
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def checkpoint_valid(public_b64: str, position: int, head_hash: str, signed_at: datetime, signature_b64: str) -> bool:
    """Whether ``signature_b64`` is ``public_b64``'s signature of this checkpoint."""
    return signature_valid(public_b64, checkpoint_message(position, head_hash, signed_at, public_b64), signature_b64)


def parse_public_key(value: str) -> str:
    """An Ed25519 public key given as base64 of its 32 raw bytes or as PEM (SubjectPublicKeyInfo), as the raw
    base64 form checkpoints carry. ValueError naming what is wrong otherwise."""
    value = value.strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(value.encode())
        except (ValueError, TypeError) as error:
            raise ValueError(f"not a readable PEM public key: {error}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("a PEM public key, but not an Ed25519 one")
        return public_key_b64(key)
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("neither PEM nor base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return base64.b64encode(raw).decode()


def configured_trust(settings: Settings) -> dict[str, set[str]]:
    """The public keys the service's settings trust, by where each comes from: ``signing_key`` (the public half
    of DECISION_LOG_SIGNING_KEY) and ``trusted_keys`` (DECISION_LOG_INTEGRITY_TRUSTED_KEYS). Never the
    database's: a key found there proves nothing, whoever can write the log can write a key beside it."""
    key = load_private_key(settings)
    return {
        "signing_key": {public_key_b64(key)} if key is not None else set(),
        "trusted_keys": {k.strip() for k in settings.integrity_trusted_keys if k.strip()},
    }
