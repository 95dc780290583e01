"""The operator commands of the public contract: seed_demo and create_account."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import HandoverRecord, Unit, User
from policy.models import PasswordHistory

DEMO_PASSWORD = "Demo-Cong-An-Toan-2026!"  # fine for a trial; the policy refuses it (own username, portal name, year)
PRODUCTION_PASSWORD = "Ghe-Tre-Den-Lua-Sach-4!"


@pytest.fixture(autouse=True)
def _trial_machine(settings):
    # pytest-django runs with DEBUG=False; seed_demo is for DEBUG=1 machines unless told otherwise
    # (the production tests below set DEBUG=False again).
    settings.DEBUG = True


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
    line = [x for x in out.getvalue().splitlines() if "Password" in x][0]
    password = line.split()[2]
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


def _frame(output: str) -> list[str]:
    """The framed block seed_demo prints last (between its two +====+ lines), without the borders."""
    lines = output.rstrip("\n").splitlines()
    assert lines[-1].startswith("+=") and lines[-1].endswith("=+"), lines[-3:]
    top = max(index for index, line in enumerate(lines[:-1]) if line.startswith("+="))
    return [line.strip("| ").rstrip() for line in lines[top + 1:-1]]


def test_it_prints_the_password_last_in_a_frame_with_the_url_and_the_first_account(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    frame = _frame(out.getvalue())
    password = [line for line in frame if line.startswith("Password")][0].split()[1]
    assert User.objects.get(username="demo.admin").check_password(password)
    assert "Open       http://127.0.0.1:8000" in frame
    assert [line for line in frame if line.startswith("Sign in")][0].split()[2] == "demo.admin"
    # Nothing after the frame but its closing line: the password is not lost among other output.
    assert out.getvalue().rstrip("\n").splitlines()[-1].startswith("+=")


def test_it_frames_the_url_without_a_password_when_the_accounts_exist(db):
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    frame = _frame(out.getvalue())
    assert "Open       http://127.0.0.1:8000" in frame
    assert "Password   unchanged since the first run (seed_demo --password PW sets one)" in frame


def test_it_refuses_to_seed_under_production_settings(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError) as error:
        call_command("seed_demo", password="abc", stdout=StringIO())
    assert "--allow-production" in str(error.value)
    assert User.objects.count() == 0
    assert Unit.objects.count() == 0


def test_it_applies_the_whole_policy_to_a_production_password(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError) as error:
        call_command("seed_demo", password="abc", allow_production=True, stdout=StringIO())
    message = str(error.value)
    # Each demo account's own refusal, in the policy's words (the IT admin's minimum is 12).
    assert "demo.admin: Mật khẩu này quá ngắn: phải có ít nhất 12 ký tự." in message
    assert "demo.officer: Mật khẩu này quá ngắn: phải có ít nhất 8 ký tự." in message
    assert User.objects.count() == 0
    assert Unit.objects.count() == 0


@pytest.mark.parametrize("password", ["Matkhau@123", "DongNai@2026x"])
def test_it_refuses_a_common_production_password_that_passes_composition(db, settings, password):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", password=password, allow_production=True, stdout=StringIO())
    assert User.objects.count() == 0


def test_it_makes_every_production_demo_account_change_the_password_first(client, db, settings):
    settings.DEBUG = False
    call_command("seed_demo", password=PRODUCTION_PASSWORD, allow_production=True, stdout=StringIO())
    reasons = dict(User.objects.filter(username__startswith="demo.").values_list("username", "password_change_reason"))
    assert reasons == {"demo.admin": "forced", "demo.inspector": "forced", "demo.leader": "forced",
                       "demo.officer": "forced"}
    response = client.post(reverse("login"), {"username": "demo.officer", "password": PRODUCTION_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("password_change")


def test_it_refuses_the_trial_password_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError) as error:
        call_command("seed_demo", password=DEMO_PASSWORD, allow_production=True, stdout=StringIO())
    refused = {line.split(":")[0].strip() for line in str(error.value).splitlines()[1:]}
    assert refused == {"demo.admin", "demo.inspector", "demo.leader", "demo.officer"}
    assert User.objects.count() == 0


def test_it_makes_a_generated_production_password_changed_first_too(db, settings):
    settings.DEBUG = False
    out = StringIO()
    call_command("seed_demo", allow_production=True, stdout=out)
    assert set(User.objects.values_list("password_change_reason", flat=True)) == {"forced"}
    assert "Every demo account must change this password at its first sign-in." in _frame(out.getvalue())


def test_it_lets_a_seeded_officer_change_the_password_at_once(client, db):
    """The operator set the demo password: the officer's own minimum age does not start with it."""
    call_command("seed_demo", password=DEMO_PASSWORD, stdout=StringIO())
    client.post(reverse("login"), {"username": "demo.officer", "password": DEMO_PASSWORD})
    page = client.get(reverse("password_change")).content.decode()
    assert 'name="new_password1"' in page
    new_password = "Nui-Den-Tau-Ghe-Com-8?"
    response = client.post(reverse("password_change"), {
        "old_password": DEMO_PASSWORD, "new_password1": new_password, "new_password2": new_password})
    assert response.status_code == 302
    officer = User.objects.get(username="demo.officer")
    assert officer.check_password(new_password) and officer.password_set_by_self


# Words of the roles' Vietnamese names (docs/architecture.md "Who uses it"): a demo person named after a role
# ("Nguyễn Văn Quản" the administrator) reads as a joke on a screen shown to a province.
ROLE_WORDS = {"quan", "tri", "thanh", "tra", "lanh", "dao", "can", "bo", "cong", "chuc"}


def test_it_gives_demo_accounts_ordinary_names_not_role_puns():
    from accounts.demo import DEMO_ACCOUNTS
    from portal.text import fold

    for username, full_name, *_ in DEMO_ACCOUNTS:
        assert not set(fold(full_name).split()) & ROLE_WORDS, (username, full_name)
