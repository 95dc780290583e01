"""One registry of advisory-lock keys (portal.locks): no two features share a key by accident, and every
module that takes an advisory lock takes its key from the registry."""
from pathlib import Path

from django.conf import settings

from accounts.services import lifecycle, signin, units
from audit.sealing import chain_lock_key
from federation import keys
from notifications import reminders
from portal.locks import LockClass, LockKey, seal_chain_key

ROOT = Path(__file__).resolve().parents[2]


def test_no_two_single_key_locks_share_a_key():
    keys = [int(key) for key in LockKey] + [seal_chain_key(table) for table in settings.AUDIT_SEALED_TABLES]
    assert len(keys) == len(set(keys))


def test_no_two_lock_classes_share_a_class():
    assert len({int(lock_class) for lock_class in LockClass}) == len(LockClass)


def test_the_modules_take_their_keys_from_the_registry():
    assert units.TREE_LOCK_KEY == LockKey.UNIT_TREE
    assert lifecycle.IT_ADMINS_LOCK_KEY == LockKey.IT_ADMINS
    assert reminders._PASS_LOCK_KEY == LockKey.REMINDER_PASS
    assert signin._ATTEMPT_LOCK_CLASS == LockClass.SIGN_IN_ATTEMPT
    assert keys._LOCK_KEY == LockKey.OIDC_SIGNING_KEY
    assert chain_lock_key("audit_securityevent") == seal_chain_key("audit_securityevent")


def test_every_module_that_takes_an_advisory_lock_imports_the_registry():
    takers = [path for path in ROOT.glob("*/**/*.py")
              if ".venv" not in path.parts and "tests" not in path.parts and path.name != "locks.py"
              and "pg_advisory" in path.read_text(encoding="utf-8")]
    assert takers  # the scan finds the lock takers at all
    without = [str(path.relative_to(ROOT)) for path in takers
               if "portal.locks" not in path.read_text(encoding="utf-8")]
    assert without == []
