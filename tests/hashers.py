"""The password hasher of the test run (docs/conventions.md "Tests"): the production algorithm at a tiny cost.

Production hashes with Django's Argon2PasswordHasher at its default cost (about 0.1 s and 100 MiB a
hash, by design). The suite hashes hundreds of passwords (every factory user, every login, every
password change and history check), so it uses the same algorithm — argon2id, algorithm name "argon2",
the same encoded form — at the smallest sensible cost. A hash made here verifies under production
settings and the other way round (argon2 reads the cost from the hash), so no code path differs.
tests/portal/test_settings.py keeps and checks the real cost; bench/ measures with it.
"""
from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 64  # KiB; argon2 needs at least 8 per lane
    parallelism = 1


PRODUCTION_ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"
CHEAP_ARGON2 = "tests.hashers.CheapArgon2PasswordHasher"


def hashers_for_tests(production_hashers: list[str]) -> list[str]:
    """The production list with its Argon2 hasher swapped for the cheap one, in the same place.

    The production hasher must not stay in the list as well: two hashers of one algorithm would make
    Django pick the last for checking, find every cheap hash outdated and re-hash it at each login."""
    if PRODUCTION_ARGON2 not in production_hashers:
        raise AssertionError(f"the production settings no longer hash with {PRODUCTION_ARGON2}: "
                             "update tests/hashers.py to keep tests on the production algorithm")
    return [CHEAP_ARGON2 if path == PRODUCTION_ARGON2 else path for path in production_hashers]
