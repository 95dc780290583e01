"""The dashboards and their lists: what each role sees at `/`, scope by guessed ids and query
parameters in every page, chart-data endpoint and export, and the same number of queries for 10 and
1,000 units."""
import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.choices import UnitKind
from accounts.models import Unit, unit_path_below
from compliance.models import UnitSnapshot
from compliance.services import snapshot_take
from portal.actors import SystemActor
from portal.exports import cell_guarded, csv_bytes
from tests.factories import UserFactory
from tests.helpers import login, xlsx_table

JOB = SystemActor("compliance_job")


@pytest.fixture
def figures(units, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    now = timezone.now()
    UserFactory(unit=units["tan_phong"], username="cb.hethan", password_changed_at=now - timedelta(days=100))
    UserFactory(unit=units["xuan_an"], username="cb.xuanan2", password_changed_at=now - timedelta(days=100))
    snapshot_take(actor=JOB, now=now)
    return units


@pytest.mark.django_db
def test_a_leaders_home_is_the_dashboard_of_their_subtree(client, figures, leader_bien_hoa):
    response = login(client, leader_bien_hoa).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "UBND thành phố Biên Hòa" in body
    assert "UBND phường Tân Phong" in body
    assert "UBND phường Xuân An" not in body and "Long Khánh" not in body
    board = response.context["board"]
    assert (board.snapshot.accounts_total, board.snapshot.accounts_compliant) == (3, 2)
    assert [row.unit_name for row in board.children] == ["UBND phường Tân Phong"]


@pytest.mark.django_db
def test_the_it_centers_home_is_the_provinces_with_turnover_and_jobs(client, figures, it_admin):
    response = login(client, it_admin).get("/")
    assert response.status_code == 200
    assert response.context["province"] is True
    assert response.context["board"].unit == figures["province"]
    assert response.context["board"].snapshot.accounts_total == 5  # the admin came after the snapshot
    assert "turnover_buckets" in response.context


@pytest.mark.django_db
def test_an_officers_home_shows_their_own_expiry_and_sign_ins(client, figures, officer_bien_hoa):
    response = login(client, officer_bien_hoa).get("/")
    assert response.status_code == 200
    assert response.context["expires_at"] == officer_bien_hoa.password_changed_at + timedelta(days=90)
    assert "board" not in response.context


@pytest.mark.django_db
@pytest.mark.parametrize("path", [
    "/compliance/units/{pk}/", "/compliance/units/{pk}/chart.json", "/compliance/units/{pk}/accounts/",
    "/compliance/units/{pk}/?month=2026-01",
])
def test_a_leader_of_bien_hoa_gets_404_for_a_unit_outside_the_subtree(client, figures, leader_bien_hoa, path):
    login(client, leader_bien_hoa)
    assert client.get(path.format(pk=figures["xuan_an"].pk)).status_code == 404
    assert client.get(path.format(pk=figures["province"].pk)).status_code == 404
    assert client.get(path.format(pk=figures["tan_phong"].pk)).status_code == 200


@pytest.mark.django_db
def test_a_leader_cannot_open_an_account_outside_the_subtree(client, figures, leader_bien_hoa, officer_long_khanh,
                                                            officer_bien_hoa):
    login(client, leader_bien_hoa)
    assert client.get(f"/compliance/accounts/{officer_long_khanh.pk}/").status_code == 404
    assert client.get(f"/compliance/accounts/{officer_bien_hoa.pk}/").status_code == 200


@pytest.mark.django_db
def test_an_officer_may_not_open_a_dashboard(client, figures, officer_bien_hoa):
    login(client, officer_bien_hoa)
    assert client.get(f"/compliance/units/{figures['tan_phong'].pk}/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("list_name,query", [
    ("accounts", ""), ("accounts", "?unit={xuan_an}"), ("compliance_accounts", "?unit={bien_hoa}"),
    ("compliance_accounts", "?unit={xuan_an}"), ("compliance_accounts", "?unit={province}"),
    ("units", "?unit={province}"), ("units", "?unit={bien_hoa}"),
])
def test_exports_of_a_leader_hold_only_the_subtree(client, figures, leader_bien_hoa, list_name, query):
    login(client, leader_bien_hoa)
    ids = {name: unit.pk for name, unit in figures.items()}
    response = client.get(f"/compliance/export/{list_name}.csv{query.format(**ids)}")
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "Xuân An" not in text and "cb.xuanan" not in text and "000.01.32.H19" not in text
    if "bien_hoa" in query or list_name == "accounts" and "xuan_an" not in query:
        assert "cb.hethan" in text or "000.00.31.H19" in text


@pytest.mark.django_db
def test_the_xlsx_export_of_the_failing_accounts_holds_them(client, figures, leader_bien_hoa):
    login(client, leader_bien_hoa)
    response = client.get(f"/compliance/export/compliance_accounts.xlsx?unit={figures['bien_hoa'].pk}"
                          "&reason=password_expired")
    assert response.status_code == 200
    _sheet, rows = xlsx_table(response.content)
    assert [row[0] for row in rows[1:]] == ["cb.hethan"]


def test_csv_cells_that_would_start_a_formula_are_quoted():
    assert cell_guarded("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [cell_guarded(text) for text in ("+1", "-2", "@SUM(A1)", "\tx", "Tân Phong")] == [
        "'+1", "'-2", "'@SUM(A1)", "'\tx", "Tân Phong"]
    assert cell_guarded(-2) == -2  # a number stays a number
    rows = list(csv.reader(io.StringIO(csv_bytes(["a"], [["=1+1"]]).decode("utf-8-sig"))))
    assert rows == [["a"], ["'=1+1"]]


@pytest.mark.django_db
def test_an_unknown_list_or_format_is_404(client, figures, leader_bien_hoa):
    login(client, leader_bien_hoa)
    assert client.get("/compliance/export/passwords.csv").status_code == 404
    assert client.get("/compliance/export/accounts.exe").status_code == 404
    assert client.get("/compliance/export/events.csv").status_code == 403


def _tree_with_snapshots(count: int, day):
    """`count` wards under one district under a root, each with a snapshot of `day` (bulk)."""
    root = Unit.objects.create(code="000.00.00.H99", name="Tỉnh thử", kind=UnitKind.PROVINCE)
    root.path = unit_path_below(None, root.pk)
    root.save(update_fields=["path"])
    district = Unit.objects.create(code="000.00.01.H99", name="Huyện thử", kind=UnitKind.DISTRICT, parent=root)
    district.path = unit_path_below(root.path, district.pk)
    district.save(update_fields=["path"])
    wards = Unit.objects.bulk_create([Unit(code=f"{n:03d}.{n // 1000:02d}.02.H99", name=f"Xã {n}", kind=UnitKind.COMMUNE,
                                           parent=district) for n in range(count)])
    for ward in wards:
        ward.path = unit_path_below(district.path, ward.pk)
    Unit.objects.bulk_update(wards, ["path"])
    rows = []
    for unit, depth in [(root, 0), (district, 1)] + [(ward, 2) for ward in wards]:
        for back in range(3):
            rows.append(UnitSnapshot(day=day - timedelta(days=back), unit=unit, unit_code=unit.code,
                                     unit_name=unit.name, unit_path=unit.path, depth=depth, accounts_total=10,
                                     accounts_compliant=7, password_expired=3, expiring_week=1))
    UnitSnapshot.objects.bulk_create(rows, batch_size=2000)
    return root, district


def _queries_of(client, path) -> int:
    client.get(path)  # the first request of a session also reads what later ones find cached (the policy)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/", "/compliance/units/{district}/", "/compliance/units/{district}/chart.json"])
def test_every_dashboard_costs_the_same_queries_at_10_and_1000_units(client, django_assert_num_queries, page,
                                                                    inspector):
    day = timezone.localdate()
    login(client, inspector)
    root, district = _tree_with_snapshots(10, day)
    path = page.format(district=district.pk)
    # The province of the fixture tree would be the root otherwise: this tree's root sorts first.
    small = _queries_of(client, path)
    UnitSnapshot.objects.all().delete()
    Unit.objects.filter(code__endswith="H99").update(parent=None)
    Unit.objects.filter(code__endswith="H99").delete()
    root, district = _tree_with_snapshots(1000, day)
    client.get(page.format(district=district.pk))
    with django_assert_num_queries(small):
        assert client.get(page.format(district=district.pk)).status_code == 200


@pytest.mark.django_db
def test_a_leaders_dashboard_costs_the_same_queries_at_10_and_1000_units(client, django_assert_num_queries, units):
    day = timezone.localdate()
    root, district = _tree_with_snapshots(10, day)
    leader = UserFactory(unit=district, role="unit_leader")
    login(client, leader)
    small = _queries_of(client, "/")
    extra = Unit.objects.bulk_create([Unit(code=f"{n:03d}.{n // 1000:02d}.03.H99", name=f"Phường {n}",
                                           kind=UnitKind.WARD, parent=district) for n in range(990)])
    for unit in extra:
        unit.path = unit_path_below(district.path, unit.pk)
    Unit.objects.bulk_update(extra, ["path"])
    UnitSnapshot.objects.bulk_create([UnitSnapshot(day=day, unit=unit, unit_code=unit.code, unit_name=unit.name,
                                                   unit_path=unit.path, depth=2, accounts_total=5,
                                                   accounts_compliant=5) for unit in extra])
    client.get("/")
    with django_assert_num_queries(small):
        response = client.get("/")
    assert len(response.context["board"].children) == 1000


@pytest.mark.django_db
def test_a_leaders_lookup_turnover_and_unit_exports_hold_only_the_subtree(client, figures, leader_bien_hoa,
                                                                         officer_bien_hoa, officer_long_khanh):
    from lookups.models import LookupRecord

    for officer in (officer_bien_hoa, officer_long_khanh):
        LookupRecord.objects.create(officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
                                    unit_code_then=officer.unit.code, decision="allow", dossier_code="=cmd|' /C calc'!A0")
    login(client, leader_bien_hoa)
    lookups = client.get("/compliance/export/lookups.csv?unit_code=000.01.32.H19").content.decode("utf-8-sig")
    assert lookups.count("\n") == 1  # the header only: Xuân An's record is outside the subtree
    lookups = client.get("/compliance/export/lookups.csv").content.decode("utf-8-sig")
    assert "cb.tanphong" in lookups and "cb.xuanan" not in lookups
    assert "'=cmd|" in lookups  # the dossier code cannot start a formula
    units_text = client.get("/compliance/export/unit_tree.csv").content.decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(units_text))][1:] == ["000.00.31.H19", "000.01.31.H19"]
    assert client.get("/compliance/export/turnover.xlsx").status_code == 200


@pytest.mark.django_db
def test_a_past_month_links_the_report_kept_for_it(client, figures, inspector):
    from datetime import datetime, time

    from compliance.services import monthly_reports_generate

    first = timezone.localdate().replace(day=1)
    last_month = timezone.make_aware(datetime.combine(first - timedelta(days=3), time(12)))
    snapshot_take(actor=JOB, now=last_month)
    monthly_reports_generate(actor=JOB)
    login(client, inspector)
    month = (first - timedelta(days=3)).strftime("%Y-%m")
    response = client.get(f"/compliance/units/{figures['xuan_an'].pk}/?month={month}")
    board = response.context["board"]
    assert board.snapshot.day == first - timedelta(days=3)
    assert board.report.month == (first - timedelta(days=3)).replace(day=1)
    assert f"/compliance/reports/{board.report.pk}/report.pdf" in response.content.decode()


@pytest.mark.django_db
def test_the_province_says_when_the_daily_snapshot_is_late(client, units, inspector):
    snapshot_take(actor=JOB, now=timezone.now() - timedelta(days=3))
    response = login(client, inspector).get("/")
    assert response.context["board"].snapshot_stale is True
    assert "Chậm: tác vụ hằng ngày chưa chạy" in response.content.decode()


@pytest.mark.django_db
def test_a_past_months_dashboard_shows_no_to_do_list_of_today(client, figures, leader_bien_hoa):
    from datetime import datetime, time

    first = timezone.localdate().replace(day=1)
    last_month = first - timedelta(days=3)
    snapshot_take(actor=JOB, now=timezone.make_aware(datetime.combine(last_month, time(12))))
    login(client, leader_bien_hoa)
    today = client.get("/")
    assert today.context["past"] is False and len(today.context["actions"]) == 1
    assert "Việc cần làm trước" in today.content.decode()
    past = client.get(f"/compliance/units/{figures['bien_hoa'].pk}/?month={last_month:%Y-%m}")
    body = past.content.decode()
    assert past.context["past"] is True and past.context["actions"] == []
    assert "Việc cần làm trước" not in body and "tuần này" not in body


@pytest.mark.django_db
def test_an_accounts_rules_are_named_for_what_complies_and_a_failing_one_offers_a_request(client, figures,
                                                                                        leader_bien_hoa):
    from accounts.models import User

    failing = User.objects.get(username="cb.hethan")
    login(client, leader_bien_hoa)
    response = client.get(f"/compliance/accounts/{failing.pk}/")
    body = response.content.decode()
    assert ("Mật khẩu được đổi trong thời hạn sử dụng tối đa", "fails") in [
        (str(label), state) for label, state in response.context["rules"]]
    assert "Mật khẩu quá thời hạn" not in body
    assert f'/admin/accounts/turnover/new/?account={failing.pk}' in body
    form = client.get(f"/admin/accounts/turnover/new/?account={failing.pk}")
    assert form.context["lines"].forms[0].initial == {"account": failing.pk}
    outside = User.objects.get(username="cb.xuanan2")
    assert client.get(f"/admin/accounts/turnover/new/?account={outside.pk}").context["lines"].forms[0].initial == {}
