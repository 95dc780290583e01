"""seed_demo's sample population: deterministic, idempotent, no usable password, the four demo
accounts unchanged, snapshots for the quarter."""
import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import TurnoverRequest, User
from compliance.models import UnitSnapshot
from lookups.models import LookupRecord


def _state():
    return (list(User.objects.filter(username__startswith="mau.").order_by("username")
                 .values_list("username", "full_name", "unit__code", "password_changed_at", "can_lookup")),
            LookupRecord.objects.count(), UnitSnapshot.objects.count(), TurnoverRequest.objects.count())


@pytest.mark.django_db
def test_the_population_is_deterministic_idempotent_and_cannot_sign_in(capsys, settings):
    settings.DEBUG = True  # seed_demo is for trial machines
    call_command("seed_demo", "--password", "Demo-Portal-2026!x", "--sample-population")
    demo_before = list(User.objects.filter(username__startswith="demo.").order_by("username")
                       .values_list("username", "password", "role", "unit__code"))
    first = _state()
    officers = User.objects.filter(username__startswith="mau.")
    assert 300 <= officers.count() <= 450
    assert not any(officer.has_usable_password() for officer in officers)
    assert officers.filter(password_changed_at__isnull=True).exists()
    assert first[1] > 0 and first[3] == 2
    days = set(UnitSnapshot.objects.values_list("day", flat=True))
    assert len(days) == 91 and timezone.localdate() in days
    call_command("seed_demo", "--password", "Demo-Portal-2026!x", "--sample-population")
    second = _state()
    assert second[0] == first[0] and second[1:] == first[1:]
    assert list(User.objects.filter(username__startswith="demo.").order_by("username")
                .values_list("username", "password", "role", "unit__code")) == demo_before
    assert "Sample officers created: 0" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_population_is_refused_under_production_settings(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", "--password", "Demo-Portal-2026!x", "--sample-population", "--allow-production")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_population_writes_no_record_dated_before_an_earlier_one(settings):
    """The seals report a record dated before a lower id (a back-dated forgery, audit/verification.py):
    the sample history is written in the order of its times and keeps no security event in the past."""
    from audit.models import SecurityEvent

    settings.DEBUG = True
    call_command("seed_demo", "--password", "Demo-Portal-2026!x", "--sample-population")
    times = list(LookupRecord.objects.order_by("id").values_list("decided_at", flat=True))
    assert len(times) > 1000
    assert all(earlier <= later for earlier, later in zip(times, times[1:]))
    events = list(SecurityEvent.objects.order_by("id").values_list("occurred_at", flat=True))
    assert all(earlier <= later for earlier, later in zip(events, events[1:]))
