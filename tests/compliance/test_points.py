"""Compliance point by point ("Điểm 1" … "Điểm 5"): each point's status and evidence on a unit's dashboard
and its own page, the province ranking, the inspector's export of any unit and month, scope."""
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from compliance.points import ATTENTION, FAILING, NO_DATA, OK, unit_points
from letter.choices import FixState, LetterPoint, Severity
from letter.models import Endpoint, RequiredFix
from letter.services import directive_acknowledge, finding_add, inspection_record
from tests.helpers import login
from tests.letter.conftest import _private_media, directive, pdf_upload  # noqa: F401 — the letter's fixtures


def _statuses(points):
    return [point.status for point in points]


def test_points_of_a_unit_without_data(units):
    assert _statuses(unit_points(units["long_khanh"])) == [NO_DATA, NO_DATA, NO_DATA, NO_DATA, NO_DATA]


def test_point_1_follows_the_acknowledgements(directive, units, officer_bien_hoa, leader_bien_hoa):
    [point_1, *_rest] = unit_points(units["bien_hoa"])
    assert (point_1.status, point_1.summary) == (ATTENTION, "0 đã xác nhận, 2 đang chờ, 0 quá hạn, 0 được miễn.")
    later = timezone.now() + timedelta(days=11)
    assert unit_points(units["bien_hoa"], now=later)[0].status == FAILING
    directive_acknowledge(actor=officer_bien_hoa, directive=directive)
    directive_acknowledge(actor=leader_bien_hoa, directive=directive)
    from letter.services import unit_measure_state

    unit_measure_state(actor=leader_bien_hoa, directive=directive, statement="Đã họp quán triệt toàn thể cán bộ.")
    assert unit_points(units["bien_hoa"])[0].status == OK
    assert unit_points(units["long_khanh"])[0].status == NO_DATA


def test_point_4_counts_the_register(units):
    today = timezone.localdate()
    Endpoint.objects.create(asset_tag="TP-1", unit=units["tan_phong"], centrally_managed=True, monitoring_agent=True,
                            monitoring_sharing=True, signature_date=today, last_checked=today)
    assert unit_points(units["bien_hoa"])[3].status == OK
    Endpoint.objects.create(asset_tag="TP-2", unit=units["tan_phong"], centrally_managed=False, signature_date=today,
                            last_checked=today, monitoring_agent=True, monitoring_sharing=True)
    point_4 = unit_points(units["bien_hoa"])[3]
    assert (point_4.status, point_4.summary) == (FAILING, "1 trong 2 máy tính bị tính là chưa đạt.")


def test_point_5_counts_fixes_past_their_deadline(inspector, units):
    inspection = inspection_record(actor=inspector, unit=units["tan_phong"], inspected_on=timezone.localdate(),
                                   team="Trần Thị Mai", scope="Phòng chống mã độc")
    finding_add(actor=inspector, inspection=inspection, point=LetterPoint.POINT_5, severity=Severity.MEDIUM,
                description="Chưa giám sát", fix_description="Giám sát", fix_owner="Văn phòng",
                fix_deadline=timezone.localdate() + timedelta(days=5))
    assert unit_points(units["bien_hoa"])[4].status == ATTENTION
    RequiredFix.objects.update(deadline=timezone.localdate() - timedelta(days=1))
    assert unit_points(units["bien_hoa"])[4].status == FAILING
    RequiredFix.objects.update(state=FixState.CLOSED)
    assert unit_points(units["bien_hoa"])[4].status == OK


def test_the_dashboard_shows_the_five_points(client, leader_bien_hoa, directive):
    response = login(client, leader_bien_hoa).get(reverse("home"))
    html = response.content.decode()
    assert [point.label for point in response.context["points"]] == ["Điểm 1", "Điểm 2", "Điểm 3", "Điểm 4", "Điểm 5"]
    assert "Điểm 1" in html and "Điểm 5" in html


def test_evidence_pages_are_scoped(client, leader_bien_hoa, inspector, units):
    login(client, leader_bien_hoa)
    assert client.get(reverse("compliance:unit_points", args=[units["tan_phong"].pk])).status_code == 200
    assert client.get(reverse("compliance:unit_points", args=[units["long_khanh"].pk])).status_code == 404
    assert client.get(reverse("compliance:unit_points_export", args=[units["long_khanh"].pk, "csv"])).status_code == 404


def test_an_inspector_exports_any_unit_and_month(client, inspector, units, directive):
    month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    response = login(client, inspector).get(
        reverse("compliance:unit_points_export", args=[units["bien_hoa"].pk, "csv"]) + f"?month={month}")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "Điểm,Trạng thái,Bằng chứng,Giá trị"
    assert f'diem-1-5-{units["bien_hoa"].code}-{month}.csv' in response["Content-Disposition"]
    xlsx = client.get(reverse("compliance:unit_points_export", args=[units["bien_hoa"].pk, "xlsx"]))
    assert xlsx.status_code == 200


def test_the_province_ranking_puts_failing_units_first(client, inspector, units):
    Endpoint.objects.create(asset_tag="LK-1", unit=units["xuan_an"], centrally_managed=False)
    response = login(client, inspector).get(reverse("compliance:points"))
    ranked = [unit for unit, _points in response.context["ranked"]]
    assert ranked[0] == units["long_khanh"]
    assert set(ranked) == {units["department"], units["bien_hoa"], units["long_khanh"]}


def test_the_monthly_report_keeps_the_five_points(units, leader_bien_hoa, client):
    from datetime import datetime, time

    from compliance.models import MonthlyReport
    from compliance.services import monthly_reports_generate, snapshot_take
    from portal.actors import SystemActor

    job = SystemActor("compliance_job")
    then = timezone.make_aware(datetime.combine(timezone.localdate().replace(day=1) - timedelta(days=2), time(12)))
    snapshot_take(actor=job, now=then)
    monthly_reports_generate(actor=job)
    report = MonthlyReport.objects.get(unit=units["bien_hoa"])
    assert [point["label"] for point in report.figures["points"]] == ["Điểm 1", "Điểm 2", "Điểm 3", "Điểm 4",
                                                                      "Điểm 5"]
    assert "Tuân thủ công văn theo từng điểm" in report.html
    assert "Điểm 4" in report.html
