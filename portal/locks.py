"""Every PostgreSQL advisory-lock key of the portal, in one registry: a new lock takes its key here,
where a clash with another feature's key is seen (and tested: tests/portal/test_locks.py) instead of
two unrelated flows silently waiting on each other.

All are transaction-scoped (`pg_advisory_xact_lock`): released at commit or rollback, and safe behind a
transaction-pooling PgBouncer, which breaks session-level advisory locks (docs/background.md). The
single-key locks (one bigint) and the class locks (two int4: a class here, an object id from the
caller) are separate key spaces in PostgreSQL ("Advisory Locks", the two key spaces do not overlap)."""
import zlib
from enum import IntEnum


class LockKey(IntEnum):
    """Single-key locks: `SELECT pg_advisory_xact_lock(key)`. Four ASCII letters, readable in pg_locks."""

    UNIT_TREE = 0x756E6974  # "unit": a change to the tree's shape (accounts.services.units)
    IT_ADMINS = 0x61646D6E  # "admn": a change that can take an IT admin away (accounts.services.lifecycle)
    REMINDER_PASS = 0x72656D69  # "remi": one reminder pass at a time (notifications.reminders)
    OIDC_SIGNING_KEY = 0x6F696463  # "oidc": one process creates or rotates the active signing key (federation.keys)


class LockClass(IntEnum):
    """Class locks: `SELECT pg_advisory_xact_lock(class, object_id)`."""

    SIGN_IN_ATTEMPT = 0x7369676E  # "sign", object hashtext(username): one attempt per username at a time
    # "LQ", object the unit's id: the Redis-and-ledger quota engine that bench/quotas.py measures against
    # the PostgreSQL counter the portal keeps (lookups.quotas takes no advisory lock).
    LOOKUP_QUOTA = 0x4C51


def seal_chain_key(table: str) -> int:
    """The single-key lock of one sealed table's chain (audit.sealing): a stable 32-bit number from the
    table's name, checked against LockKey by the tests for the tables the settings seal."""
    return zlib.crc32(f"audit-seal:{table}".encode())
