"""One action on many accounts with one reason (the IT Center's account list): each account goes
through its own service and audit record, the reason in each; out-of-scope or refused accounts are
reported, never a 500."""
import html

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import HandoverRecord, User
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import UserFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db
BULK = reverse("accounts:bulk")


def test_an_it_admin_disables_several_accounts_with_one_reason(client, units, it_admin):
    chosen = [UserFactory(unit=units["tan_phong"], username=f"cb.nghi{n}") for n in range(3)]
    login(client, it_admin)
    response = client.post(BULK, {"accounts": [a.pk for a in chosen], "action": "disable",
                                  "reason": "Nghỉ việc theo Quyết định 12/QĐ-UBND", "query": "role=officer"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, max-age=0, no-cache, must-revalidate, private"
    assert User.objects.filter(pk__in=[a.pk for a in chosen], is_active=False).count() == 3
    reasons = list(SecurityEvent.objects.filter(kind=EventKind.ACCOUNT_DISABLED).values_list("details__reason",
                                                                                           flat=True))
    assert reasons == ["Nghỉ việc theo Quyết định 12/QĐ-UBND"] * 3
    assert 'href="/admin/accounts/?role=officer"' in response.content.decode()


def test_a_bulk_reset_shows_each_one_time_password_once_with_its_record(client, units, it_admin):
    chosen = [UserFactory(unit=units["tan_phong"], username=f"cb.datlai{n}") for n in range(2)]
    login(client, it_admin)
    response = client.post(BULK, {"accounts": [a.pk for a in chosen], "action": "reset", "reason": "Nghi lộ mật khẩu"})
    issued = response.context["outcome"].issued
    assert [account.username for account, _password, _record in issued] == ["cb.datlai0", "cb.datlai1"]
    assert HandoverRecord.objects.filter(account__in=chosen).count() == 2
    body = response.content.decode()
    for _account, password, record in issued:
        assert body.count(html.escape(password)) == 1 and record.number in body
    assert list(SecurityEvent.objects.filter(kind=EventKind.PASSWORD_RESET).values_list("details__reason",
                                                                                      flat=True)) == [
        "Nghi lộ mật khẩu"] * 2


def test_a_bulk_action_needs_a_reason_and_changes_nothing_without_one(client, units, it_admin, officer_bien_hoa):
    login(client, it_admin)
    response = client.post(BULK, {"accounts": [officer_bien_hoa.pk], "action": "disable", "reason": " "},
                           follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Hãy nêu lý do cho các tài khoản đã chọn."]
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active


def test_own_account_is_refused_by_name_and_the_others_done(client, units, it_admin, officer_bien_hoa):
    login(client, it_admin)
    response = client.post(BULK, {"accounts": [officer_bien_hoa.pk, it_admin.pk], "action": "disable",
                                  "reason": "Thử"})
    outcome = response.context["outcome"]
    assert [a.username for a in outcome.done] == ["cb.tanphong"]
    assert [a.username for a, _message in outcome.refused] == ["qt.admin"]


def test_only_it_admins_may_act_in_bulk(units, leader_bien_hoa, officer_bien_hoa):
    response = login(Client(), leader_bien_hoa).post(BULK, {"accounts": [officer_bien_hoa.pk], "action": "disable",
                                                            "reason": "x"})
    assert response.status_code == 403
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active
