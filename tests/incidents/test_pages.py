"""The incident pages: anyone signed in reports (officers too), the IT Center triages, contains and
closes; inspectors read; leaders see their subtree's incidents, officers their own reports (404 outside);
bad input changes nothing; evidence checked by content; one-step incidents; dashboards show containment."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SealVerification
from audit.services import audit_event_record
from incidents.choices import IncidentCategory, IncidentState
from incidents.models import Evidence, Incident, TimelineEntry
from incidents.services.containment import unit_contain
from incidents.services.records import incident_evidence_add, incident_report
from portal.errors import PolicyViolation
from tests.factories import UserFactory
from tests.helpers import login, pdf_bytes

from .helpers import deadline_rules_seeded

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def rules(db):
    return deadline_rules_seeded()


def _as(user):
    return login(Client(), user)


def _report_form(**overrides):
    data = {"title": "Máy tính nghi nhiễm mã độc", "category": IncidentCategory.MALWARE,
            "discovered_at": timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%d/%m/%Y %H:%M"),
            "units": "000.01.31.H19", "systems": "Hệ thống một cửa điện tử", "description": "Máy chậm bất thường"}
    data.update(overrides)
    return data


def test_an_officer_reports_and_sees_only_their_own_report(units, officer_bien_hoa, officer_long_khanh):
    response = _as(officer_bien_hoa).post(reverse("incidents:report"), _report_form())
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[incident.pk])
    assert incident.reporter == officer_bien_hoa
    assert incident.state == IncidentState.REPORTED
    assert [unit.code for unit in incident.units.all()] == ["000.01.31.H19"]
    assert incident.systems == ["Hệ thống một cửa điện tử"]
    assert TimelineEntry.objects.filter(incident=incident).count() == 1
    assert _as(officer_bien_hoa).get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    assert _as(officer_long_khanh).get(reverse("incidents:detail", args=[incident.pk])).status_code == 404
    page = _as(officer_long_khanh).get(reverse("incidents:list")).content.decode()
    assert incident.number not in page


def test_a_leader_sees_the_incidents_of_their_subtree(units, leader_bien_hoa, officer_bien_hoa):
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=timezone.now())
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    assert _as(leader_bien_hoa).get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    assert _as(leader_long_khanh).get(reverse("incidents:detail", args=[incident.pk])).status_code == 404


@pytest.mark.parametrize("overrides, field, message", [
    ({"title": ""}, "title", "Thông tin này là bắt buộc."),
    ({"discovered_at": "31/02/2026 10:00"}, "discovered_at", None),
    ({"units": "999.99.99.H19"}, "units", "Không có đơn vị nào có mã định danh 999.99.99.H19."),
    ({"category": "ransom"}, "category", None),
    ({"citizens_affected": "-3"}, "citizens_affected", None),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(units, officer_bien_hoa, overrides, field, message):
    response = _as(officer_bien_hoa).post(reverse("incidents:report"), _report_form(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert Incident.objects.count() == 0


def test_a_future_discovery_is_refused(units, officer_bien_hoa):
    future = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%d/%m/%Y %H:%M")
    response = _as(officer_bien_hoa).post(reverse("incidents:report"), _report_form(discovered_at=future))
    assert response.status_code == 200
    assert response.context["form"].errors == {"discovered_at": ["Thời điểm phát hiện không thể ở tương lai."]}
    assert Incident.objects.count() == 0


def test_inspectors_read_but_do_not_triage(units, inspector, it_admin, officer_bien_hoa):
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=timezone.now())
    client = _as(inspector)
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    response = client.post(reverse("incidents:triage", args=[incident.pk]),
                           {"severity": "high", "category": incident.category, "handler": it_admin.pk})
    assert response.status_code == 403
    assert Incident.objects.get().state == IncidentState.REPORTED


def test_evidence_is_checked_by_content_and_kept_with_its_digest(units, it_admin, officer_bien_hoa, private_media):
    incident = incident_report(actor=officer_bien_hoa, title="Mã độc", category=IncidentCategory.MALWARE,
                               discovered_at=timezone.now())
    client = _as(it_admin)
    client.post(reverse("incidents:evidence", args=[incident.pk]),
                {"file": SimpleUploadedFile("anh-man-hinh.png", PNG), "description": "Ảnh màn hình"})
    client.post(reverse("incidents:evidence", args=[incident.pk]),
                {"file": SimpleUploadedFile("bien-ban.pdf", pdf_bytes())})
    evidence = list(Evidence.objects.order_by("id").values_list("name", "file_type"))
    assert evidence == [("anh-man-hinh.png", "png"), ("bien-ban.pdf", "pdf")]
    with pytest.raises(PolicyViolation) as renamed:
        incident_evidence_add(actor=it_admin, incident=incident,
                              uploaded=SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf"))
    assert renamed.value.code == "evidence_type"
    with pytest.raises(PolicyViolation) as twice:
        incident_evidence_add(actor=it_admin, incident=incident, uploaded=SimpleUploadedFile("lai.png", PNG))
    assert twice.value.code == "evidence_duplicate"
    assert Evidence.objects.count() == 2
    png = Evidence.objects.get(file_type="png")
    response = client.get(reverse("incidents:evidence_file", args=[incident.pk, png.pk]))
    assert response.status_code == 200
    assert response.content == PNG
    # A stored file altered on disk is no longer served.
    (private_media / "incidents" / f"{png.sha256}.png").write_bytes(PNG + b"x")
    assert client.get(reverse("incidents:evidence_file", args=[incident.pk, png.pk])).status_code == 404
    assert _as(officer_bien_hoa).get(reverse("incidents:evidence_file", args=[incident.pk, png.pk])).status_code == 404


def test_the_account_page_contains_and_lifts(units, it_admin, officer_bien_hoa):
    client = _as(it_admin)
    response = client.post(reverse("incidents:account_contain", args=[officer_bien_hoa.pk]),
                           {"reason": "Lộ mật khẩu", "incident": ""}, follow=True)
    page = response.content.decode()
    assert "Chặn đăng nhập: Chặn đăng nhập trong thời gian khoanh vùng" in page
    assert "Kết thúc mọi phiên đăng nhập: Đã kết thúc 0 phiên đăng nhập" in page
    assert 'data-testid="account-containment"' in page
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.contained_at is not None
    response = client.post(reverse("incidents:account_lift", args=[officer_bien_hoa.pk]), {"reason": ""}, follow=True)
    assert "Hãy nêu lý do gỡ khoanh vùng." in response.content.decode()
    client.post(reverse("incidents:account_lift", args=[officer_bien_hoa.pk]), {"reason": "Đã đổi máy"})
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.contained_at is None


def test_a_contained_unit_shows_on_the_dashboards_of_its_subtree_only(units, it_admin, leader_bien_hoa):
    unit_contain(actor=it_admin, unit=units["tan_phong"], reason="Sự cố")
    leader_long_khanh = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    assert 'data-testid="contained-banner"' in _as(leader_bien_hoa).get(reverse("home")).content.decode()
    assert 'data-testid="contained-banner"' in _as(it_admin).get(reverse("home")).content.decode()
    assert 'data-testid="contained-banner"' not in _as(leader_long_khanh).get(reverse("home")).content.decode()


def test_one_step_from_a_lockout_and_a_failed_seal_verification(units, it_admin, officer_bien_hoa):
    event = audit_event_record(kind=EventKind.LOCKOUT, actor=it_admin, target=officer_bien_hoa)
    client = _as(it_admin)
    first = client.post(reverse("incidents:open_from_lockout", args=[event.pk]))
    second = client.post(reverse("incidents:open_from_lockout", args=[event.pk]))
    incident = Incident.objects.get()
    assert first.url == second.url == reverse("incidents:detail", args=[incident.pk])
    assert (incident.category, incident.source_key) == (IncidentCategory.PASSWORD_LEAK, f"lockout:{event.pk}")
    now = timezone.now()
    broken = SealVerification.objects.create(started_at=now, finished_at=now, actor_username="system:seal_job",
                                             ok=False, first_problem="record 12 altered")
    client.post(reverse("incidents:open_from_seal", args=[broken.pk]))
    assert Incident.objects.filter(source_key=f"seal_verification:{broken.pk}").count() == 1
    assert _as(officer_bien_hoa).post(reverse("incidents:open_from_lockout", args=[event.pk])).status_code == 403


def test_the_list_exports_and_the_report_prints(units, it_admin, officer_bien_hoa):
    incident = incident_report(actor=officer_bien_hoa, title="Lộ mật khẩu", category=IncidentCategory.PASSWORD_LEAK,
                               discovered_at=timezone.now())
    client = _as(it_admin)
    csv = client.get(reverse("incidents:list") + "?format=csv")
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Số hiệu sự cố,Tiêu đề,Loại sự cố")
    assert len(lines) == 2
    assert client.get(reverse("incidents:list") + "?format=xlsx").status_code == 200
    printed = client.get(reverse("incidents:print", args=[incident.pk])).content.decode()
    assert "Độc lập - Tự do - Hạnh phúc" in printed
    assert incident.number in printed
    draft = client.get(reverse("incidents:print", args=[incident.pk]) + "?draft=initial_report").content.decode()
    assert "THÔNG BÁO" in draft
    assert client.get(reverse("incidents:print", args=[incident.pk]) + "?draft=nope").status_code == 404


def test_the_unit_containment_page(units, it_admin, inspector, leader_bien_hoa, officer_bien_hoa):
    unit = units["bien_hoa"]
    url = reverse("incidents:unit_containment", args=[unit.pk])
    assert _as(leader_bien_hoa).get(url).status_code == 403
    assert _as(inspector).post(url, {"reason": "Sự cố"}).status_code == 404
    client = _as(it_admin)
    response = client.post(url, {"reason": "", "incident": ""})
    assert response.status_code == 200
    assert response.context["contain_form"].errors == {"reason": ["Thông tin này là bắt buộc."]}
    unit.refresh_from_db()
    assert unit.contained_at is None
    response = client.post(url, {"reason": "Lộ mật khẩu", "incident": "SC-2026-99999"})
    assert response.status_code == 200
    assert "Không có sự cố nào có số hiệu này." in response.content.decode()
    response = client.post(url, {"reason": "Lộ mật khẩu", "incident": ""}, follow=True)
    assert 'data-testid="lift-unit"' in response.content.decode()
    assert _as(inspector).get(url).status_code == 200
    client.post(url, {"action": "lift", "reason": "Xong"})
    unit.refresh_from_db()
    assert unit.contained_at is None


def test_the_rules_page(units, it_admin, inspector, leader_bien_hoa):
    url = reverse("incidents:rules")
    assert _as(leader_bien_hoa).get(url).status_code == 403
    page = _as(inspector).get(url).content.decode()
    assert "Thông tư 20/2017/TT-BTTTT" in page
    assert _as(inspector).post(url, {"title": "x", "effective_from": "01/07/2027"}).status_code == 404
    client = _as(it_admin)
    response = client.post(url, {"title": "Luật An ninh mạng", "effective_from": "31/02/2027"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["effective_from"]
    future = (timezone.localdate() + timedelta(days=40)).strftime("%d/%m/%Y")
    assert client.post(url, {"title": "Luật An ninh mạng", "effective_from": future}).status_code == 302
    from incidents.models import DeadlineRuleSet

    assert DeadlineRuleSet.objects.count() == 2
