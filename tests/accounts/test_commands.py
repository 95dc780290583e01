"""The operator commands of the public contract: seed_demo and create_account."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import HandoverRecord, Unit, User
from policy.models import PasswordHistory

DEMO_PASSWORD = "Demo-Cong-An-Toan-2026!"


def _snapshot():
    units = list(Unit.objects.order_by("code").values_list("code", "name", "kind", "parent__code", "path"))
    accounts = list(User.objects.order_by("username").values_list(
        "username", "full_name", "email", "role", "unit__code", "can_lookup", "is_active", "password_change_reason"))
    return units, accounts, PasswordHistory.objects.count()


def test_it_seeds_the_same_data_twice(db):
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    first = _snapshot()
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    assert _snapshot() == first
    units, accounts, _ = first
    codes = {unit[0] for unit in units}
    assert "000.00.00.H19" in codes
    assert Unit.objects.filter(kind__in=["city", "district"]).count() == 11
    assert {a[0] for a in accounts} == {"demo.admin", "demo.inspector", "demo.leader", "demo.officer"}


def test_it_makes_demo_accounts_ready_to_use(client, db):
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    leader = User.objects.get(username="demo.leader")
    assert leader.unit.name == "UBND thành phố Biên Hòa" and leader.role == "unit_leader"
    officer = User.objects.get(username="demo.officer")
    assert officer.can_lookup and officer.unit.parent == leader.unit and officer.email
    response = client.post(reverse("login"), {"username": "demo.officer", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_it_prints_a_generated_password_once(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    line = [x for x in out.getvalue().splitlines() if "shown once" in x][0]
    password = line.rsplit(" ", 1)[1]
    assert User.objects.get(username="demo.admin").check_password(password)
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert password not in again.getvalue()
    assert User.objects.get(username="demo.admin").check_password(password)


def test_it_creates_an_account_whose_printed_password_works_once(client, db):
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    out = StringIO()
    call_command("create_account", "cb.hoanai", unit="000.01.31.H19", role="officer", full_name="Hồ Ánh Nai",
                 email="hoanai@dongnai.gov.vn", stdout=out)
    password = out.getvalue().strip()
    assert "\n" not in password and len(password) == 14  # policy.services.ONE_TIME_PASSWORD_LENGTH
    account = User.objects.get(username="cb.hoanai")
    assert HandoverRecord.objects.filter(account=account).count() == 1
    response = client.post(reverse("login"), {"username": "cb.hoanai", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("password_change")
    new_password = "Mua-Xuan-Loc-Quat-Tran-9?"
    client.post(reverse("password_change"), {"old_password": password, "new_password1": new_password,
                                             "new_password2": new_password})
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": "cb.hoanai", "password": password})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("args,kwargs", [
    (["cb.x"], {"unit": "999.99.99.H19", "role": "officer"}),
    (["Có Dấu"], {"unit": "000.00.00.H19", "role": "officer"}),
])
def test_it_refuses_bad_create_account_input(db, args, kwargs):
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    before = User.objects.count()
    with pytest.raises(CommandError):
        call_command("create_account", *args, stdout=StringIO(), **kwargs)
    assert User.objects.count() == before


def test_it_leaves_what_the_it_center_changed_on_a_demo_account(db):
    from accounts.services import account_disable
    from audit.models import SecurityEvent
    from portal.actors import COMMAND_LINE

    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    officer = User.objects.get(username="demo.officer")
    account_disable(actor=COMMAND_LINE, account=officer, reason="Nghỉ việc")
    events = SecurityEvent.objects.count()
    call_command("seed_demo", stdout=StringIO())
    officer.refresh_from_db()
    assert not officer.is_active and officer.disabled_reason == "Nghỉ việc"
    assert SecurityEvent.objects.count() == events


def test_it_records_the_demo_accounts_it_creates(db):
    from audit.choices import EventKind
    from audit.models import SecurityEvent

    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    assert SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_CREATED, target_username__startswith="demo.").count() == 4
