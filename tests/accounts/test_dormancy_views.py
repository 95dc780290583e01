"""The dormancy card of the account page: the account's last activity and when it would become dormant
for every reader; the IT Center grants (reason, dd/mm/yyyy end date) and withdraws an exemption;
every refusal in Vietnamese and without change; scope; CSRF."""
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import DormancyExemption
from accounts.services.dormancy import dormancy_exemption_grant
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.helpers import login


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def in_days(days):
    return (timezone.localdate() + timedelta(days=days)).strftime("%d/%m/%Y")


@pytest.fixture
def service_account(officer_bien_hoa):
    created = timezone.now() - timedelta(days=10)
    type(officer_bien_hoa).objects.filter(pk=officer_bien_hoa.pk).update(created_at=created, last_login=None,
                                                                         enabled_at=None)
    officer_bien_hoa.refresh_from_db()
    return officer_bien_hoa


def test_the_card_shows_the_last_activity_and_when_the_account_becomes_dormant(client, leader_bien_hoa,
                                                                              service_account):
    page = login(client, leader_bien_hoa).get(reverse("accounts:detail", args=[service_account.pk]))
    html = page.content.decode()
    last = timezone.localtime(service_account.created_at)
    assert "Hoạt động gần nhất" in html
    assert page.context["last_activity"] == service_account.created_at
    assert f'<dd data-testid="last-activity">{last:%d/%m/%Y %H:%M}</dd>' in html
    assert timezone.localtime(page.context["dormant_at"]).strftime("%d/%m/%Y") == (last + timedelta(days=45)).strftime(
        "%d/%m/%Y")
    assert (last + timedelta(days=45)).strftime("%d/%m/%Y") in html
    assert page.context["exemption_form"] is None  # a leader reads, the IT Center exempts
    assert reverse("accounts:exemption_grant", args=[service_account.pk]) not in html


def test_the_it_center_grants_an_exemption_until_the_end_of_the_day(admin_client, service_account, it_admin):
    response = admin_client.post(reverse("accounts:exemption_grant", args=[service_account.pk]),
                                 {"reason": "Tài khoản hệ thống giám sát", "expires_on": in_days(90)}, follow=True)
    exemption = DormancyExemption.objects.get()
    assert (exemption.account, exemption.reason, exemption.granted_by) == (
        service_account, "Tài khoản hệ thống giám sát", it_admin)
    assert timezone.localtime(exemption.expires_at).strftime("%d/%m/%Y %H:%M") == f"{in_days(90)} 23:59"
    assert messages_of(response) == [f"Tài khoản được miễn trừ quy định vô hiệu hóa tài khoản không sử dụng đến ngày "
                                     f"{in_days(90)}."]
    html = response.content.decode()
    assert f"Miễn trừ đến ngày {in_days(90)} (người cấp: Nguyễn Văn Hùng): Tài khoản hệ thống giám sát" in html
    assert "Không, trong thời gian được miễn trừ" in html
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANCY_EXEMPTED, target_username=service_account.username
                                        ).count() == 1


@pytest.mark.parametrize("post, message", [
    ({"reason": "", "expires_on": "DAYS30"}, "Hãy nêu lý do."),
    ({"reason": "Giám sát", "expires_on": "30/02/2027"}, "Nhập một ngày hợp lệ."),
    ({"reason": "Giám sát", "expires_on": "DAYS-1"}, "Ngày kết thúc miễn trừ phải sau thời điểm hiện tại."),
    ({"reason": "Giám sát", "expires_on": "DAYS400"}, "Miễn trừ kéo dài tối đa một năm; hãy gia hạn khi hết hạn."),
])
def test_it_refuses_a_bad_exemption_and_grants_nothing(admin_client, service_account, post, message):
    post = {name: in_days(int(value[4:])) if value.startswith("DAYS") else value for name, value in post.items()}
    response = admin_client.post(reverse("accounts:exemption_grant", args=[service_account.pk]), post, follow=True)
    assert messages_of(response) == [message]
    assert DormancyExemption.objects.count() == 0
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANCY_EXEMPTED).count() == 0


def test_the_it_center_withdraws_an_exemption(admin_client, service_account, it_admin):
    dormancy_exemption_grant(actor=it_admin, account=service_account, reason="Giám sát",
                             expires_at=timezone.now() + timedelta(days=30))
    url = reverse("accounts:exemption_revoke", args=[service_account.pk])
    response = admin_client.post(url, follow=True)
    assert messages_of(response) == ["Đã thu hồi miễn trừ: quy định vô hiệu hóa tài khoản không sử dụng lại áp "
                                     "dụng cho tài khoản này."]
    assert DormancyExemption.objects.get().revoked_at is not None
    assert response.context["exemption"] is None
    assert messages_of(admin_client.post(url, follow=True)) == ["Tài khoản không có miễn trừ nào."]
    assert SecurityEvent.objects.filter(kind=EventKind.DORMANCY_EXEMPTION_REVOKED).count() == 1


@pytest.mark.parametrize("actor", ["leader_bien_hoa", "inspector"])
def test_only_the_it_center_grants_or_withdraws(client, request, service_account, actor, it_admin):
    dormancy_exemption_grant(actor=it_admin, account=service_account, reason="Giám sát",
                             expires_at=timezone.now() + timedelta(days=30))
    login(client, request.getfixturevalue(actor))
    assert client.post(reverse("accounts:exemption_grant", args=[service_account.pk]),
                       {"reason": "x", "expires_on": in_days(30)}).status_code == 403
    assert client.post(reverse("accounts:exemption_revoke", args=[service_account.pk])).status_code == 403
    assert DormancyExemption.objects.filter(revoked_at__isnull=True).count() == 1


def test_another_districts_account_does_not_exist_for_a_leader(client, officer_long_khanh, leader_bien_hoa):
    login(client, leader_bien_hoa)
    assert client.get(reverse("accounts:detail", args=[officer_long_khanh.pk])).status_code == 404


def test_a_post_without_the_csrf_token_is_refused(it_admin, service_account):
    client = login(Client(enforce_csrf_checks=True), it_admin)
    assert client.post(reverse("accounts:exemption_grant", args=[service_account.pk]),
                       {"reason": "Giám sát", "expires_on": in_days(30)}).status_code == 403
    assert DormancyExemption.objects.count() == 0
