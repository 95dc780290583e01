"""Recertification through the web pages: the IT Center starts (dd/mm/yyyy deadline, a visible outcome
defaulting to withdrawing the lookup right) and closes a campaign; a leader certifies their accounts
one by one or several at once, with a note for change/remove; the progress per unit in scope; the
“remove” decisions as a prefilled turnover request; every refusal in Vietnamese and without change."""
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import RecertificationDecision, RecertificationOutcome, Role
from accounts.models import RecertificationCampaign, RecertificationItem, Unit
from accounts.services import recertification as recert
from audit.choices import EventKind
from audit.models import SecurityEvent
from tests.factories import UserFactory
from tests.helpers import login

PAGE = reverse("accounts:recertification")
START = reverse("accounts:recertification_start")
NEW_REQUEST = reverse("accounts:turnover_create")


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def leader_long_khanh(units):
    return UserFactory(username="ld.longkhanh", full_name="Đỗ Văn Long", role=Role.UNIT_LEADER,
                       unit=units["long_khanh"])


@pytest.fixture
def second_officer(units):
    return UserFactory(username="cb.tanphong2", full_name="Ngô Thị Lan", unit=units["tan_phong"])


@pytest.fixture
def campaign(it_admin, inspector, leader_bien_hoa, leader_long_khanh, officer_bien_hoa, officer_long_khanh,
             second_officer):
    return recert.recertification_campaign_start(actor=it_admin, name="Đợt 1/2027")


def item_of(campaign, account):
    return RecertificationItem.objects.get(campaign=campaign, account=account)


def in_days(days):
    return (timezone.localdate() + timedelta(days=days)).strftime("%d/%m/%Y")


def test_the_it_center_starts_a_campaign_with_the_default_outcome(admin_client, officer_bien_hoa):
    form = admin_client.get(PAGE).context["start_form"]
    assert form["outcome"].initial == RecertificationOutcome.WITHDRAW_LOOKUP
    html = admin_client.get(PAGE).content.decode()
    assert "Thu hồi quyền tra cứu thông tin công dân" in html
    assert "không có xác nhận thì không được giữ quyền truy cập dữ liệu công dân" in html
    response = admin_client.post(START, {"name": "Đợt 1/2027", "deadline": in_days(20),
                                         "outcome": RecertificationOutcome.WITHDRAW_LOOKUP}, follow=True)
    campaign = RecertificationCampaign.objects.get()
    assert (campaign.name, campaign.outcome, timezone.localtime(campaign.deadline).strftime("%d/%m/%Y %H:%M")) == (
        "Đợt 1/2027", "withdraw_lookup", f"{in_days(20)} 23:59")
    assert messages_of(response) == ["Đã bắt đầu đợt “Đợt 1/2027”: lãnh đạo các đơn vị rà soát, xác nhận tài khoản "
                                     "của đơn vị mình."]
    assert SecurityEvent.objects.filter(kind=EventKind.RECERTIFICATION_STARTED).count() == 1


@pytest.mark.parametrize("post, field, message", [
    ({"deadline": "31/02/2027", "outcome": "withdraw_lookup"}, "deadline", "Nhập một ngày hợp lệ."),
    ({"deadline": "DAYS0", "outcome": "withdraw_lookup"}, "deadline", "Hãy để thời hạn cho lãnh đạo đơn vị ít nhất hai ngày."),
    ({"deadline": "DAYS20", "outcome": "forget"}, "outcome", None),
    ({"deadline": "DAYS20", "outcome": "disable", "name": "Đợt\x00 1"}, "name", None),
])
def test_it_refuses_a_bad_start_and_starts_nothing(admin_client, post, field, message):
    post = {name: in_days(int(value[4:])) if str(value).startswith("DAYS") else value for name, value in post.items()}
    response = admin_client.post(START, post)
    assert response.status_code == 200
    errors = response.context["start_form"].errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert RecertificationCampaign.objects.count() == 0


def test_a_second_open_campaign_is_refused(admin_client, campaign):
    response = admin_client.post(START, {"deadline": in_days(20), "outcome": "disable"})
    assert response.context["start_form"].errors == {"__all__": [
        "Đang có một đợt rà soát tài khoản; hãy kết thúc đợt đó trước."]}
    assert RecertificationCampaign.objects.count() == 1


def test_a_leader_sees_their_accounts_the_deadline_and_what_is_left(client, campaign, leader_bien_hoa,
                                                                   officer_bien_hoa, second_officer):
    page = login(client, leader_bien_hoa).get(PAGE)
    assert [item.account for item in page.context["page"]] == [officer_bien_hoa, second_officer]
    assert page.context["left"] == 2
    html = page.content.decode()
    assert timezone.localtime(campaign.deadline).strftime("%d/%m/%Y") in html
    assert "start_form" not in page.context
    # Their own account (certified by the level above) counts in their unit's progress.
    assert [row["unit__code"] for row in page.context["progress"]] == ["000.00.31.H19", "000.01.31.H19"]


def test_a_leader_keeps_changes_and_removes_with_a_note(client, campaign, leader_bien_hoa, officer_bien_hoa,
                                                       second_officer):
    login(client, leader_bien_hoa)
    item = item_of(campaign, officer_bien_hoa)
    response = client.post(reverse("accounts:recertification_decide", args=[item.pk]),
                           {"decision": "remove", "note": "Đã chuyển công tác"}, follow=True)
    assert messages_of(response) == ["cb.tanphong: Không còn cần thiết."]
    item.refresh_from_db()
    assert (item.decision, item.note, item.decided_by) == ("remove", "Đã chuyển công tác", leader_bien_hoa)
    assert response.context["left"] == 1


@pytest.mark.parametrize("decision", ["change", "remove"])
def test_change_or_remove_without_a_note_is_refused_and_changes_nothing(client, campaign, leader_bien_hoa,
                                                                        officer_bien_hoa, decision):
    login(client, leader_bien_hoa)
    item = item_of(campaign, officer_bien_hoa)
    response = client.post(reverse("accounts:recertification_decide", args=[item.pk]), {"decision": decision},
                           follow=True)
    assert messages_of(response) == ["Hãy nêu cần thay đổi gì, hoặc vì sao tài khoản không còn cần thiết."]
    assert item_of(campaign, officer_bien_hoa).decision == "pending"
    assert SecurityEvent.objects.filter(kind=EventKind.RECERTIFICATION_DECIDED).count() == 0


def test_a_missing_decision_is_refused(client, campaign, leader_bien_hoa, officer_bien_hoa):
    login(client, leader_bien_hoa)
    item = item_of(campaign, officer_bien_hoa)
    response = client.post(reverse("accounts:recertification_decide", args=[item.pk]), {"note": "x"}, follow=True)
    assert messages_of(response) == ["Hãy chọn giữ nguyên, thay đổi hoặc thu hồi."]
    assert item_of(campaign, officer_bien_hoa).decision == "pending"


def test_bulk_keep_certifies_several_at_once(client, campaign, leader_bien_hoa, officer_bien_hoa, second_officer):
    login(client, leader_bien_hoa)
    ids = [item_of(campaign, officer_bien_hoa).pk, item_of(campaign, second_officer).pk]
    response = client.post(reverse("accounts:recertification_keep", args=[campaign.pk]), {"items": ids}, follow=True)
    assert messages_of(response) == ["Đã xác nhận 2 tài khoản vẫn cần, giữ nguyên."]
    assert set(RecertificationItem.objects.filter(pk__in=ids).values_list("decision", flat=True)) == {"keep"}
    assert response.context["left"] == 0


def test_bulk_keep_with_another_districts_account_keeps_none(client, campaign, leader_bien_hoa, officer_bien_hoa,
                                                             officer_long_khanh):
    login(client, leader_bien_hoa)
    ids = [item_of(campaign, officer_bien_hoa).pk, item_of(campaign, officer_long_khanh).pk]
    response = client.post(reverse("accounts:recertification_keep", args=[campaign.pk]), {"items": ids}, follow=True)
    assert messages_of(response) == ["Tài khoản này không thuộc phạm vi bạn xác nhận."]
    assert set(RecertificationItem.objects.filter(pk__in=ids).values_list("decision", flat=True)) == {"pending"}


def test_bulk_keep_with_nothing_chosen_is_refused(client, campaign, leader_bien_hoa):
    login(client, leader_bien_hoa)
    response = client.post(reverse("accounts:recertification_keep", args=[campaign.pk]), {}, follow=True)
    assert messages_of(response) == ["Hãy chọn ít nhất một tài khoản."]


def test_another_districts_item_does_not_exist_for_a_leader(client, campaign, leader_bien_hoa, officer_long_khanh):
    login(client, leader_bien_hoa)
    item = item_of(campaign, officer_long_khanh)
    assert client.post(reverse("accounts:recertification_decide", args=[item.pk]),
                       {"decision": "keep"}).status_code == 404
    assert client.post(reverse("accounts:recertification_decide", args=[999_999]),
                       {"decision": "keep"}).status_code == 404
    assert item_of(campaign, officer_long_khanh).decision == "pending"


def test_a_leaders_own_account_is_not_on_their_list(client, campaign, leader_bien_hoa):
    login(client, leader_bien_hoa)
    item = item_of(campaign, leader_bien_hoa)
    assert item.pk not in [i.pk for i in client.get(PAGE).context["page"]]
    assert client.post(reverse("accounts:recertification_decide", args=[item.pk]),
                       {"decision": "keep"}).status_code == 404


def test_the_progress_is_per_unit_for_the_it_center_and_the_inspectorate(client, campaign, inspector):
    page = login(client, inspector).get(PAGE)
    assert [(row["unit__code"], row["total"], row["pending"]) for row in page.context["progress"]] == [
        (unit.code, RecertificationItem.objects.filter(unit=unit).count(), RecertificationItem.objects.filter(
            unit=unit).count()) for unit in Unit.objects.filter(pk__in=RecertificationItem.objects.values("unit"))
        .order_by("path")]
    assert sum(row["total"] for row in page.context["progress"]) == RecertificationItem.objects.count()
    assert "page" not in page.context  # the inspectorate reads, never decides
    assert "start_form" not in page.context


def test_officers_may_not_open_the_page(client, campaign, officer_bien_hoa):
    login(client, officer_bien_hoa)
    assert client.get(PAGE).status_code == 403
    assert client.post(reverse("accounts:recertification_decide", args=[item_of(campaign, officer_bien_hoa).pk]),
                       {"decision": "keep"}).status_code == 403


@pytest.mark.parametrize("actor", ["leader_bien_hoa", "inspector"])
def test_only_the_it_center_starts_and_closes(client, request, campaign, actor):
    login(client, request.getfixturevalue(actor))
    assert client.post(START, {"deadline": in_days(20), "outcome": "disable"}).status_code == 403
    assert client.post(reverse("accounts:recertification_close", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.closed_at is None


def test_the_it_center_closes_the_campaign_and_the_outcome_applies(admin_client, campaign, officer_bien_hoa):
    response = admin_client.post(reverse("accounts:recertification_close", args=[campaign.pk]), follow=True)
    campaign.refresh_from_db()
    officer_bien_hoa.refresh_from_db()
    assert campaign.closed_at is not None
    assert officer_bien_hoa.can_lookup is False
    assert messages_of(response) == ["Đã kết thúc đợt rà soát; đã áp dụng cách xử lý cho 1 tài khoản không được "
                                     "xác nhận."]
    again = admin_client.post(reverse("accounts:recertification_close", args=[campaign.pk]), follow=True)
    assert messages_of(again) == ["Đợt rà soát đã kết thúc."]
    assert SecurityEvent.objects.filter(kind=EventKind.RECERTIFICATION_CLOSED).count() == 1


def test_decisions_after_the_close_are_refused(client, campaign, it_admin, leader_bien_hoa, officer_bien_hoa):
    recert.recertification_close(actor=it_admin, campaign=campaign)
    login(client, leader_bien_hoa)
    item = item_of(campaign, officer_bien_hoa)
    response = client.post(reverse("accounts:recertification_decide", args=[item.pk]), {"decision": "keep"},
                           follow=True)
    assert messages_of(response) == ["Đợt rà soát đã kết thúc; không thể thay đổi kết luận."]
    assert item_of(campaign, officer_bien_hoa).decision == "pending"


def test_remove_decisions_open_a_prefilled_turnover_request(client, campaign, leader_bien_hoa, officer_bien_hoa,
                                                           units):
    recert.recertification_item_decide(actor=leader_bien_hoa, item=item_of(campaign, officer_bien_hoa),
                                       decision=RecertificationDecision.REMOVE, note="Nghỉ việc")
    login(client, leader_bien_hoa)
    assert client.get(PAGE).context["removals"] == 1
    response = client.post(reverse("accounts:recertification_turnover", args=[campaign.pk]))
    assert response["Location"] == NEW_REQUEST
    form_page = client.get(NEW_REQUEST)
    assert [form.initial for form in form_page.context["lines"].forms] == [
        {"action": "disable", "account": officer_bien_hoa.pk, "departure_reason": "duties_changed"}, {}]
    assert form_page.context["form"].initial == {"unit": units["bien_hoa"].pk,
                                                 "issuing_unit_name": "UBND thành phố Biên Hòa"}


def test_without_remove_decisions_no_request_is_prefilled(client, campaign, leader_bien_hoa):
    login(client, leader_bien_hoa)
    response = client.post(reverse("accounts:recertification_turnover", args=[campaign.pk]), follow=True)
    assert messages_of(response) == ["Không còn tài khoản đang hoạt động nào được kết luận thu hồi."]
    assert "turnover_prefill" not in client.session


def test_a_post_without_the_csrf_token_is_refused(campaign, leader_bien_hoa, officer_bien_hoa, it_admin):
    leader = login(Client(enforce_csrf_checks=True), leader_bien_hoa)
    item = item_of(campaign, officer_bien_hoa)
    assert leader.post(reverse("accounts:recertification_decide", args=[item.pk]),
                       {"decision": "keep"}).status_code == 403
    assert leader.post(reverse("accounts:recertification_keep", args=[campaign.pk]),
                       {"items": [item.pk]}).status_code == 403
    admin = login(Client(enforce_csrf_checks=True), it_admin)
    assert admin.post(reverse("accounts:recertification_close", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert (item_of(campaign, officer_bien_hoa).decision, campaign.closed_at) == ("pending", None)


def test_the_nav_shows_recertification_to_everyone_but_officers(leader_bien_hoa, inspector, officer_bien_hoa,
                                                                it_admin):
    for user, shown in ((leader_bien_hoa, True), (inspector, True), (it_admin, True), (officer_bien_hoa, False)):
        html = login(Client(), user).get(reverse("accounts:turnover_list")).content.decode()
        assert (f'href="{PAGE}"' in html) is shown


def test_the_list_shows_sign_ins_and_password_changes_and_says_what_each_decision_does(client, campaign,
                                                                                       leader_bien_hoa,
                                                                                       officer_bien_hoa):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    type(officer_bien_hoa).objects.filter(pk=officer_bien_hoa.pk).update(
        last_login=datetime(2026, 11, 30, 8, 15, tzinfo=vn), password_changed_at=datetime(2026, 10, 2, 9, 0, tzinfo=vn))
    html = login(client, leader_bien_hoa).get(PAGE).content.decode()
    row = html[html.index(f'data-testid="item-{officer_bien_hoa.username}"'):]
    row = row[:row.index("</tr>")]
    assert "30/11/2026 08:15" in row and "02/10/2026" in row
    assert "Chưa đăng nhập" in html  # the second officer never signed in
    assert 'data-select-all="items"' in html and "js/select-all.js" in html
    assert ("<strong>Thu hồi tài khoản</strong>: tài khoản vẫn hoạt động cho đến khi Trung tâm CNTT vô hiệu hóa "
            "theo đề nghị thay đổi cán bộ") in html
    assert "Không được rà soát trước hạn: Thu hồi quyền tra cứu thông tin công dân." in html
