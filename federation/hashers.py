"""How connected systems' client secrets are kept (django-oauth-toolkit's CLIENT_SECRET_HASHER).

A client secret is 288 random bits made by the portal (federation.services), not a password a person
chose: a salted SHA-256 cannot be reversed by guessing, as the lookup API's tokens are kept (keyed
SHA-256), while Argon2 would add a password hash's cost (~0.1 s, 100 MiB) to every token request —
doubling the cost of a sign-in through a system. Listed last in PASSWORD_HASHERS, so no person's
password is ever hashed with it (Django hashes with the first)."""
import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "client_secret_sha256"

    def encode(self, password, salt):
        self._check_encode_args(password, salt)
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded):
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password, encoded):
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {_("algorithm"): decoded["algorithm"], _("salt"): mask_hash(decoded["salt"], show=2),
                _("hash"): mask_hash(decoded["hash"])}

    def harden_runtime(self, password, encoded):
        pass
