"""The policy's two near-duplicate expiry settings became one (policy migration 0008): the warning
window is the largest reminder day. A policy whose window was wider than its first reminder keeps that
window, the day joining the reminder days; one within them changes nothing."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("policy", "0007_policy_second_factor")]
AFTER = [("policy", "0008_expiry_warning_folded_into_reminders")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets)


def _migrate_to_latest():
    """Every app's latest migration: going back to policy 0007 also unapplied what depends on 0008
    (lookups 0012, whose database functions the rest of the suite calls on this database)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("warning_days, reminders, expected", [
    (21, "14,7,3,1", "21,14,7,3,1"),
    (14, "14,7,3,1", "14,7,3,1"),
    (7, "28,14,7", "28,14,7"),
])
def test_the_warning_window_survives_the_fold(warning_days, reminders, expected):
    from policy.models import PasswordPolicy

    if not PasswordPolicy.objects.filter(id=1).exists():  # a transactional test empties the tables after it
        PasswordPolicy.from_defaults().save()
    try:
        state = _migrate(BEFORE)
        Policy = state.apps.get_model("policy", "PasswordPolicy")
        Policy.objects.filter(id=1).update(expiry_warning_days=warning_days, expiry_reminder_days=reminders)
        state = _migrate(AFTER)
        Policy = state.apps.get_model("policy", "PasswordPolicy")
        assert Policy.objects.get(id=1).expiry_reminder_days == expected
    finally:
        _migrate_to_latest()
