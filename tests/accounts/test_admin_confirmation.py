"""Four eyes on the keys: an IT administrator created on the web stays disabled until a second IT
administrator enables it; the creator cannot; the command line (a named system actor) needs nobody."""
import pytest
from django.test import Client
from django.urls import reverse

from accounts.choices import Role
from accounts.models import AdminConfirmation, User
from accounts.services import account_create, account_enable
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.actors import SystemActor
from portal.errors import NotAllowed
from tests.factories import UserFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


def test_a_new_it_admin_waits_for_a_second_it_admin(units, it_admin):
    second = UserFactory(username="qt.hai", full_name="Lê Thị Hai", role=Role.IT_ADMIN, unit=units["it_center"])
    account, _password, _record = account_create(actor=it_admin, username="qt.moi", full_name="Trần Văn Mới",
                                                 unit=units["it_center"], role=Role.IT_ADMIN)
    assert account.is_active is False
    assert account.disabled_reason == "Chờ quản trị viên thứ hai xác nhận"
    with pytest.raises(NotAllowed):
        account_enable(actor=it_admin, account=account)
    account.refresh_from_db()
    assert account.is_active is False
    account_enable(actor=second, account=account)
    account.refresh_from_db()
    confirmation = AdminConfirmation.objects.get(account=account)
    assert (account.is_active, confirmation.requested_by, confirmation.confirmed_by) == (True, it_admin, second)
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_ENABLED, target=account)
    assert (event.actor, event.details["confirmed_it_admin_creation"]) == (second, True)
    assert SecurityEvent.objects.get(kind=EventKind.ACCOUNT_CREATED, target=account).details[
        "awaiting_confirmation"] is True


def test_an_officer_account_and_the_command_line_need_no_confirmation(units, it_admin):
    officer, _p, _r = account_create(actor=it_admin, username="cb.moi", full_name="Ngô Văn Mới",
                                     unit=units["tan_phong"], role=Role.OFFICER)
    admin, _p, _r = account_create(actor=SystemActor("command_line"), username="qt.khancap",
                                   full_name="Phạm Văn Khẩn", unit=units["it_center"], role=Role.IT_ADMIN)
    assert (officer.is_active, admin.is_active) == (True, True)
    assert AdminConfirmation.objects.count() == 0


def test_the_account_page_tells_who_may_confirm(units, it_admin):
    second = UserFactory(username="qt.hai", full_name="Lê Thị Hai", role=Role.IT_ADMIN, unit=units["it_center"])
    account, _p, _r = account_create(actor=it_admin, username="qt.moi", full_name="Trần Văn Mới",
                                     unit=units["it_center"], role=Role.IT_ADMIN)
    url = reverse("accounts:detail", args=[account.pk])
    creator_page = login(Client(), it_admin).get(url).content.decode()
    assert "Tài khoản quản trị viên mới do Nguyễn Văn Hùng tạo" in creator_page
    assert "Xác nhận và kích hoạt quản trị viên này" not in creator_page
    refused = login(Client(), it_admin).post(reverse("accounts:enable", args=[account.pk]), follow=True)
    assert [str(m) for m in refused.context["messages"]] == [
        "Tài khoản quản trị viên do bạn tạo phải được một quản trị viên khác xác nhận."]
    other = login(Client(), second)
    assert "Xác nhận và kích hoạt quản trị viên này" in other.get(url).content.decode()
    other.post(reverse("accounts:enable", args=[account.pk]))
    assert User.objects.get(pk=account.pk).is_active is True


def test_a_promotion_to_it_admin_waits_for_a_second_it_admin_too(units, it_admin, officer_bien_hoa):
    from accounts.services import account_update

    second = UserFactory(username="qt.hai", full_name="Lê Thị Hai", role=Role.IT_ADMIN, unit=units["it_center"])
    account_update(actor=it_admin, account=officer_bien_hoa, values={"role": Role.IT_ADMIN})
    officer_bien_hoa.refresh_from_db()
    assert (officer_bien_hoa.role, officer_bien_hoa.is_active) == (Role.IT_ADMIN, False)
    with pytest.raises(NotAllowed):
        account_enable(actor=it_admin, account=officer_bien_hoa)
    account_enable(actor=second, account=officer_bien_hoa)
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active is True
