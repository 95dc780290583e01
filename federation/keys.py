"""The portal's signing keys (ID tokens and logout tokens): RSA 2048, one active, the retired ones
published in the JWKS until the tokens they signed have expired (as django-oauth-toolkit's
OIDC_RSA_PRIVATE_KEYS_INACTIVE, but kept in the database so that a rotation reaches every process at
once). Private keys are stored encrypted (Fernet, key derived from SECRET_KEY): never in clear."""
import base64
from datetime import timedelta

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from jwcrypto import jwk

from portal.locks import LockKey

from .models import SigningKey

_LOCK_KEY = LockKey.OIDC_SIGNING_KEY  # one process creates or rotates the active key at a time
# A logout token is short-lived; a retired key stays published this much past the longest token.
LOGOUT_TOKEN_SECONDS = 120


def _fernet() -> Fernet:
    digest = salted_hmac("federation.keys.signing_key_encryption", settings.SECRET_KEY, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _pem_to_jwk(pem: bytes) -> jwk.JWK:
    return jwk.JWK.from_pem(pem)


def _new_key_row(now) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SigningKey(kid=_pem_to_jwk(pem).thumbprint(), private_key_encrypted=_fernet().encrypt(pem),
                      created_at=now)


# Decrypted keys by kid, per process (a key never changes under its kid; a rotation makes a new kid).
_DECRYPTED: dict[str, jwk.JWK] = {}


def key_jwk(row: SigningKey) -> jwk.JWK:
    key = _DECRYPTED.get(row.kid)
    if key is None:
        key = _pem_to_jwk(_fernet().decrypt(bytes(row.private_key_encrypted)))
        _DECRYPTED[row.kid] = key
    return key


def _lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def signing_key_active() -> tuple[str, jwk.JWK]:
    """(kid, key) of the active signing key, made on first use."""
    row = SigningKey.objects.filter(retired_at=None).first()
    if row is None:
        try:
            with transaction.atomic():
                _lock()
                row = SigningKey.objects.filter(retired_at=None).first()
                if row is None:
                    row = _new_key_row(timezone.now())
                    row.save()
        except IntegrityError:
            row = SigningKey.objects.get(retired_at=None)
    return row.kid, key_jwk(row)


def signing_keys_published(now=None) -> list[SigningKey]:
    now = now or timezone.now()
    return list(SigningKey.objects.filter(Q(retired_at=None) | Q(published_until__gt=now)).order_by("-created_at"))


def signing_key_set() -> jwk.JWKSet:
    """Every published key (private), to verify a token the portal signed (an id_token_hint)."""
    keys = jwk.JWKSet()
    for row in signing_keys_published():
        keys.add(jwk.JWK(**{**key_jwk(row).export(as_dict=True), "kid": row.kid}))
    return keys


def public_jwks() -> dict:
    keys = []
    for row in signing_keys_published():
        public = key_jwk(row).export_public(as_dict=True)
        keys.append({**public, "alg": "RS256", "use": "sig", "kid": row.kid})
    return {"keys": keys}


@transaction.atomic
def signing_key_rotate(now=None) -> tuple[SigningKey, SigningKey | None]:
    """A new active key; the previous one retired and kept published until what it signed expired.
    The caller records the audit event. Returns (new, retired)."""
    now = now or timezone.now()
    _lock()
    retired = SigningKey.objects.select_for_update().filter(retired_at=None).first()
    if retired is not None:
        longest = max(settings.OIDC_ID_TOKEN_SECONDS, LOGOUT_TOKEN_SECONDS)
        retired.retired_at = now
        retired.published_until = now + timedelta(seconds=longest)
        retired.save(update_fields=["retired_at", "published_until"])
    new = _new_key_row(now)
    new.save()
    return new, retired


def _secret_fernet() -> Fernet:
    digest = salted_hmac("federation.keys.system_secret_encryption", settings.SECRET_KEY, algorithm="sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secret_encrypt(value: str) -> bytes:
    """A secret the portal must send (a SCIM target's bearer token): it cannot be hashed, so it is kept
    encrypted as the signing keys are (a key derived from SECRET_KEY, under its own purpose)."""
    return _secret_fernet().encrypt(value.encode())


def secret_decrypt(value: bytes) -> str:
    return _secret_fernet().decrypt(bytes(value)).decode()
