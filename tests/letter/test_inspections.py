"""Letter point 5 through the pages: an inspector records an inspection and its findings with required
fixes; the unit's leader answers a fix with evidence; the inspector closes it or returns it; a fix open
past its deadline counts against the unit; the printable record; scope (404 by guessed ids)."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.choices import EventKind
from audit.models import SecurityEvent
from letter import selectors
from letter.choices import FixState, LetterPoint, Severity
from letter.models import Finding, Inspection, RequiredFix
from letter.services import finding_add, fix_answer, inspection_record
from tests.helpers import login, pdf_bytes


@pytest.fixture
def inspection(inspector, units):
    inspection = inspection_record(actor=inspector, unit=units["bien_hoa"],
                                   inspected_on=timezone.localdate() - timedelta(days=20),
                                   team="Trần Thị Mai, Thanh tra viên\nNguyễn Văn Bình, Chuyên viên",
                                   scope="Quản trị tài khoản, phòng chống mã độc", decision_number="15/QĐ-TTR")
    finding_add(actor=inspector, inspection=inspection, point=LetterPoint.POINT_4, severity=Severity.HIGH,
                description="3 máy tính không cài phần mềm phòng chống mã độc.",
                fix_description="Cài phần mềm phòng chống mã độc, quản lý tập trung", fix_owner="Văn phòng UBND",
                fix_deadline=timezone.localdate() - timedelta(days=1))
    return inspection


def _inspection_form(units, **changes):
    data = {"unit": units["bien_hoa"].pk, "decision_number": "15/QĐ-TTR",
            "inspected_on": (timezone.localdate() - timedelta(days=1)).strftime("%d/%m/%Y"),
            "team": "Trần Thị Mai, Thanh tra viên", "scope": "Quản trị tài khoản", "conclusion": "",
            "evidence_note": ""}
    data.update(changes)
    return data


def test_an_inspector_records_an_inspection_and_a_finding(client, inspector, units):
    login(client, inspector)
    response = client.post(reverse("letter:inspection_create"), _inspection_form(
        units, evidence=SimpleUploadedFile("bien-ban.pdf", pdf_bytes(), content_type="application/pdf")))
    inspection = Inspection.objects.get()
    assert response.url == reverse("letter:inspection", args=[inspection.pk])
    assert inspection.evidence_name == "bien-ban.pdf"
    deadline = (timezone.localdate() + timedelta(days=30)).strftime("%d/%m/%Y")
    client.post(reverse("letter:inspection", args=[inspection.pk]), {
        "point": "1", "severity": "medium", "description": "Chưa quán triệt văn bản 5722.",
        "fix_description": "Tổ chức quán triệt", "fix_owner": "Chánh Văn phòng", "fix_deadline": deadline})
    fix = RequiredFix.objects.get()
    assert (fix.finding.point, fix.owner, fix.state) == (1, "Chánh Văn phòng", FixState.OPEN)
    assert SecurityEvent.objects.filter(kind=EventKind.INSPECTION_FINDING_ADDED).count() == 1


@pytest.mark.parametrize("changes, field, message", [
    ({"inspected_on": "2026/12/01"}, "inspected_on", "Nhập ngày theo dạng dd/mm/yyyy, ví dụ 31/01/2024."),
    ({"decision_number": "quyết định 15"}, "decision_number", "Ghi số và ký hiệu như trên công văn, ví dụ 125/UBND-VP."),
    ({"team": ""}, "team", "Thông tin này là bắt buộc."),
    ({"evidence": SimpleUploadedFile("anh.pdf", b"GIF89a", content_type="application/pdf")}, "evidence",
     "Tệp công văn không phải tài liệu PDF (hãy quét công văn sang định dạng PDF)."),
])
def test_it_refuses_a_bad_inspection(client, inspector, units, changes, field, message):
    response = login(client, inspector).post(reverse("letter:inspection_create"), _inspection_form(units, **changes))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert Inspection.objects.count() == 0


def test_a_fix_needs_an_owner_and_a_deadline(client, inspector, inspection):
    response = login(client, inspector).post(reverse("letter:inspection", args=[inspection.pk]), {
        "point": "3", "severity": "low", "description": "Mật khẩu yếu.", "fix_description": "Đổi mật khẩu"})
    assert response.status_code == 200
    assert response.context["form"].errors["fix_description"] == [
        "Yêu cầu khắc phục cần nội dung, người chịu trách nhiệm và thời hạn."]
    assert Finding.objects.filter(inspection=inspection).count() == 1


def test_only_inspectors_record(client, it_admin, leader_bien_hoa, units):
    for user in (it_admin, leader_bien_hoa):
        response = login(client, user).post(reverse("letter:inspection_create"), _inspection_form(units))
        assert response.status_code == 403
        client.logout()
    assert Inspection.objects.count() == 0


def test_the_leader_answers_and_the_inspector_closes(client, inspection, leader_bien_hoa, inspector):
    fix = RequiredFix.objects.get()
    assert selectors.fixes_overdue(selectors.inspections_visible_to(inspector).values("unit"),
                                   timezone.localdate()).count() == 1
    login(client, leader_bien_hoa)
    client.post(reverse("letter:fix_answer", args=[fix.pk]), {
        "answer": "Đã cài BKAV cho 3 máy.",
        "evidence": SimpleUploadedFile("anh-chup.pdf", pdf_bytes(), content_type="application/pdf")})
    fix.refresh_from_db()
    assert (fix.state, fix.answered_by, fix.answer_evidence_name) == (FixState.ANSWERED, leader_bien_hoa,
                                                                      "anh-chup.pdf")
    client.logout()
    login(client, inspector)
    response = client.post(reverse("letter:fix_close", args=[fix.pk]), {"decision": "return", "note": ""}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Hãy nêu vì sao câu trả lời chưa giải quyết yêu cầu."]
    client.post(reverse("letter:fix_close", args=[fix.pk]), {"decision": "close", "note": "Đã kiểm tra lại"})
    fix.refresh_from_db()
    assert (fix.state, fix.closed_by) == (FixState.CLOSED, inspector)
    assert selectors.fixes_overdue(selectors.inspections_visible_to(inspector).values("unit"),
                                   timezone.localdate()).count() == 0
    # A closed fix takes no more answers.
    client.logout()
    login(client, leader_bien_hoa).post(reverse("letter:fix_answer", args=[fix.pk]), {"answer": "Bổ sung"})
    fix.refresh_from_db()
    assert (fix.state, fix.answer) == (FixState.CLOSED, "Đã cài BKAV cho 3 máy.")


def test_an_inspection_outside_the_subtree_is_404(client, inspector, inspection, units):
    from tests.factories import UserFactory

    leader_long_khanh = UserFactory(username="ld.longkhanh", role="unit_leader", unit=units["long_khanh"])
    fix = RequiredFix.objects.get()
    login(client, leader_long_khanh)
    assert client.get(reverse("letter:inspection", args=[inspection.pk])).status_code == 404
    assert client.get(reverse("letter:inspection_record", args=[inspection.pk])).status_code == 404
    assert client.post(reverse("letter:fix_answer", args=[fix.pk]), {"answer": "x"}).status_code == 404
    assert [row.inspection for row in selectors.inspection_rows(leader_long_khanh, timezone.localdate())] == []
    fix.refresh_from_db()
    assert fix.state == FixState.OPEN


def test_the_printable_record(client, inspection, leader_bien_hoa):
    response = login(client, leader_bien_hoa).get(reverse("letter:inspection_record", args=[inspection.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "BIÊN BẢN" in html
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html
    assert "3 máy tính không cài phần mềm phòng chống mã độc." in html
    assert "Văn phòng UBND" in html


def test_fix_answer_service_refuses_another_units_leader(inspection, units):
    from portal.errors import NotAllowed
    from tests.factories import UserFactory

    other = UserFactory(username="ld.longkhanh", role="unit_leader", unit=units["long_khanh"])
    with pytest.raises(NotAllowed):
        fix_answer(actor=other, fix=RequiredFix.objects.get(), answer="Đã làm")
