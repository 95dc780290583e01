"""Letter point 1 through the pages: the IT Center publishes a directive (bad input refused, nothing
changed), officers acknowledge it, a leader records an acknowledgement on an officer's behalf and states
the unit's measures, versions (material asks again, minor does not), scope (404 by guessed ids)."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.services.dormancy import dormancy_exemption_grant
from audit.choices import EventKind
from audit.models import SecurityEvent
from letter import selectors
from letter.choices import AcknowledgementMethod
from letter.models import Acknowledgement, Directive, DirectiveVersion, UnitMeasure
from letter.services import directive_acknowledge, directive_version_publish
from tests.factories import UserFactory
from tests.helpers import login, pdf_bytes


def _form(units, **changes):
    today = timezone.localdate()
    data = {"number": "12/STTTT-CĐS", "issued_on": (today - timedelta(days=1)).strftime("%d/%m/%Y"),
            "issuer": "Sở Thông tin và Truyền thông", "signer": "Giám đốc Sở", "title": "Bảo mật tài khoản",
            "summary": "Đọc kỹ và thực hiện.", "audience_units": [units["bien_hoa"].pk],
            "audience_roles": [Role.OFFICER], "due_date": (today + timedelta(days=14)).strftime("%d/%m/%Y"),
            "attachment": SimpleUploadedFile("cv.pdf", pdf_bytes(), content_type="application/pdf")}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_it_center_publishes_a_directive(admin_client, units, it_admin):
    response = admin_client.post(reverse("letter:directive_create"), _form(units))
    directive = Directive.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("letter:directive", args=[directive.pk])
    assert directive.number == "12/STTTT-CĐS"
    assert directive.versions.get().number == 1
    assert SecurityEvent.objects.filter(kind=EventKind.DIRECTIVE_PUBLISHED, actor=it_admin).count() == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"number": ""}, "number", "Thông tin này là bắt buộc."),
    ({"number": "so 12"}, "number", "Ghi số và ký hiệu như trên công văn, ví dụ 125/UBND-VP."),
    ({"issued_on": "2024-01-31"}, "issued_on", "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 31/01/2024."),
    ({"due_date": "31/02/2026"}, "due_date", "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 31/01/2024."),
    ({"attachment": SimpleUploadedFile("cv.pdf", b"not a pdf at all", content_type="application/pdf")},
     "attachment", "Tệp công văn không phải tài liệu PDF (hãy quét công văn sang định dạng PDF)."),
])
def test_it_refuses_bad_input_and_publishes_nothing(admin_client, units, changes, field, message):
    response = admin_client.post(reverse("letter:directive_create"), _form(units, **changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert Directive.objects.count() == 0


def test_only_the_it_center_publishes(client, leader_bien_hoa, units):
    response = login(client, leader_bien_hoa).post(reverse("letter:directive_create"), _form(units))
    assert response.status_code == 403
    assert Directive.objects.count() == 0


def test_an_officer_acknowledges_once(client, directive, officer_bien_hoa):
    login(client, officer_bien_hoa)
    url = reverse("letter:directive_acknowledge", args=[directive.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    ack = Acknowledgement.objects.get()
    assert (ack.account, ack.version.number, ack.method) == (officer_bien_hoa, 1, AcknowledgementMethod.PORTAL)
    assert SecurityEvent.objects.filter(kind=EventKind.DIRECTIVE_ACKNOWLEDGED).count() == 1
    page = client.get(reverse("letter:directive", args=[directive.pk]))
    assert page.context["my_state"] == "accepted"


def test_an_officer_outside_the_audience_gets_404(client, directive, officer_long_khanh):
    login(client, officer_long_khanh)
    assert client.get(reverse("letter:directive", args=[directive.pk])).status_code == 404
    assert client.post(reverse("letter:directive_acknowledge", args=[directive.pk])).status_code == 404
    assert Acknowledgement.objects.count() == 0


def test_counts_accepted_pending_overdue_and_exempt(directive, it_admin, officer_bien_hoa, leader_bien_hoa, units):
    service = UserFactory(username="svc.giamsat", role=Role.OFFICER, unit=units["tan_phong"])
    dormancy_exemption_grant(actor=it_admin, account=service, reason="Tài khoản giám sát",
                             expires_at=timezone.now() + timedelta(days=30))
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    assert selectors.directive_counts(directive) == {"total": 3, "accepted": 1, "pending": 1, "overdue": 0,
                                                     "exempt": 1}
    later = timezone.now() + timedelta(days=11)
    assert selectors.directive_counts(directive, now=later) == {"total": 3, "accepted": 1, "pending": 0,
                                                                "overdue": 1, "exempt": 1}


def test_a_leader_records_on_behalf_with_a_note(client, directive, leader_bien_hoa, officer_bien_hoa):
    login(client, leader_bien_hoa)
    url = reverse("letter:directive_on_behalf", args=[directive.pk])
    response = client.post(url, {"account": officer_bien_hoa.pk, "note": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Thông tin này là bắt buộc."]
    assert Acknowledgement.objects.count() == 0
    client.post(url, {"account": officer_bien_hoa.pk, "note": "Đã quán triệt tại cuộc họp giao ban 05/12"})
    ack = Acknowledgement.objects.get()
    assert (ack.method, ack.recorded_by, ack.note) == (AcknowledgementMethod.ON_BEHALF, leader_bien_hoa,
                                                       "Đã quán triệt tại cuộc họp giao ban 05/12")


def test_a_leader_cannot_record_for_an_officer_outside_the_subtree(client, units, it_admin, pdf_upload,
                                                                   leader_bien_hoa, officer_long_khanh):
    from letter.services import directive_publish

    province_wide = directive_publish(
        actor=it_admin, number="13/STTTT-CĐS", issued_on=timezone.localdate(), issuer="Sở", signer="Giám đốc",
        title="Toàn tỉnh", summary="Đọc.", audience_units=[units["province"]], audience_roles=[Role.OFFICER],
        due_date=timezone.localdate() + timedelta(days=7), attachment=pdf_upload())
    login(client, leader_bien_hoa)
    response = client.post(reverse("letter:directive_on_behalf", args=[province_wide.pk]),
                           {"account": officer_long_khanh.pk, "note": "Đã họp"})
    assert response.status_code == 404
    assert Acknowledgement.objects.count() == 0


def test_a_leader_states_the_units_measures(client, directive, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    url = reverse("letter:directive_measures", args=[directive.pk])
    client.post(url, {"statement": "Đã tổ chức họp quán triệt toàn thể cán bộ ngày 04/12."})
    client.post(url, {"statement": "Đã họp quán triệt và niêm yết quy định tại bộ phận một cửa."})
    measure = UnitMeasure.objects.get()
    assert (measure.unit, measure.statement) == (units["bien_hoa"],
                                                 "Đã họp quán triệt và niêm yết quy định tại bộ phận một cửa.")


def test_a_material_change_asks_again_and_a_minor_one_does_not(directive, it_admin, officer_bien_hoa, pdf_upload):
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    directive_version_publish(actor=it_admin, directive=directive, summary="Sửa lỗi chính tả.", material=False,
                              change_note="Sửa lỗi chính tả ở đoạn 2", attachment=pdf_upload())
    assert selectors.directives_to_acknowledge(officer_bien_hoa) == []
    assert selectors.directive_counts(directive)["accepted"] == 1
    directive_version_publish(actor=it_admin, directive=directive, summary="Thêm quy định mới.", material=True,
                              change_note="Bổ sung quy định về thiết bị cá nhân", attachment=pdf_upload(),
                              due_date=timezone.localdate() + timedelta(days=20))
    assert [d.pk for d, _v in selectors.directives_to_acknowledge(officer_bien_hoa)] == [directive.pk]
    assert selectors.directive_counts(directive)["accepted"] == 0
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    assert Acknowledgement.objects.filter(account=officer_bien_hoa).count() == 2
    assert Acknowledgement.objects.filter(account=officer_bien_hoa).latest("acknowledged_at").version.number == 3


def test_a_material_version_needs_a_new_due_date(admin_client, directive):
    response = admin_client.post(reverse("letter:directive_version", args=[directive.pk]), {
        "summary": "Bổ sung.", "material": "material", "change_note": "Bổ sung", "due_date": "",
        "attachment": SimpleUploadedFile("v2.pdf", pdf_bytes(), content_type="application/pdf")})
    assert response.status_code == 200
    assert response.context["form"].errors["due_date"] == [
        "Thay đổi quan trọng cần hạn mới: mọi người xác nhận lại."]
    assert DirectiveVersion.objects.filter(directive=directive).count() == 1


def test_the_pdf_is_served_only_within_scope(client, directive, officer_bien_hoa, officer_long_khanh):
    url = reverse("letter:directive_file", args=[directive.pk, 1])
    response = login(client, officer_bien_hoa).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    client.logout()
    assert login(client, officer_long_khanh).get(url).status_code == 404


def test_the_demo_publishes_the_letter_itself_once(db, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", password="Quat-Mua-But-Chi-7!", stdout=StringIO())
    call_command("seed_demo", password="Quat-Mua-But-Chi-7!", stdout=StringIO())
    directive = Directive.objects.get()
    assert (directive.number, directive.issued_on.strftime("%d/%m/%Y")) == ("000/STTTT-CĐS", "01/02/2024")
    assert [unit.code for unit in directive.audience_units.all()] == ["000.00.00.H19"]
    from accounts.models import User

    officer = User.objects.get(username="demo.officer")
    assert [d.number for d, _v in selectors.directives_to_acknowledge(officer)] == ["000/STTTT-CĐS"]


def test_the_officers_home_page_shows_what_waits(client, directive, officer_bien_hoa):
    login(client, officer_bien_hoa)
    html = client.get(reverse("home")).content.decode()
    assert "Có 1 văn bản chỉ đạo đang chờ bạn xác nhận." in html
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    assert "đang chờ bạn xác nhận" not in client.get(reverse("home")).content.decode()
