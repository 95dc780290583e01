"""The keys of the seals (portal/settings.py): the HMAC key of the chain, the keys it replaced, the
Ed25519 key that signs every seal and the public keys inspectors verify with.

Each key is named by an id derived from it, so that a seal says which key made it and a rotation
needs no bookkeeping: the HMAC key's id is a keyed digest of a fixed label (it tells nothing about the
key), the signing key's id the start of its public key's SHA-256 (its fingerprint)."""
import base64
import hashlib
import hmac
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings


def hmac_key_id(key: str) -> str:
    return hmac.new(key.encode(), b"portal-seal-key-id", hashlib.sha256).hexdigest()[:12]


# Cached by the settings' values (read afresh on each call), so that a changed setting is seen at once.
@cache
def _hmac_keys(keys: tuple[str, ...]) -> dict[str, bytes]:
    return {hmac_key_id(key): key.encode() for key in keys if key}


def current_hmac_key() -> tuple[str, bytes]:
    return hmac_key_id(settings.AUDIT_SEAL_KEY), settings.AUDIT_SEAL_KEY.encode()


def hmac_key(key_id: str) -> bytes | None:
    """The HMAC key with this id (the current one or one it replaced), or None when unknown."""
    return _hmac_keys((settings.AUDIT_SEAL_KEY, *settings.AUDIT_SEAL_PREVIOUS_KEYS)).get(key_id)


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key_id(public_key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()[:16]


@cache
def _signing_key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed))


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.AUDIT_SIGNING_KEY)


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key as an inspector holds it: PEM (what the portal offers) or base64 of the 32 raw bytes."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@cache
def _public_keys(seed: str, previous: tuple[str, ...]) -> dict[str, Ed25519PublicKey]:
    keys = [_signing_key(seed).public_key()] + [public_key_from_text(text) for text in previous]
    return {signing_key_id(key): key for key in keys}


def known_public_keys() -> dict[str, Ed25519PublicKey]:
    """The current signing key's public key and those of the keys it replaced, by their ids."""
    return _public_keys(settings.AUDIT_SIGNING_KEY, tuple(settings.AUDIT_SIGNING_PREVIOUS_PUBLIC_KEYS))


def signature_valid(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def new_signing_key_text() -> tuple[str, str]:
    """A fresh signing key: (the base64 seed for AUDIT_SIGNING_KEY, its public key in PEM)."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    return base64.b64encode(seed).decode(), public_key_pem(key.public_key())
