"""The flagged-lookups page: it_admin and inspectors see every flag, a unit leader their subtree's (also
by guessed ids: 404), officers none (403); filters by kind, unit subtree, officer and dd/mm/yyyy dates,
bad filters refused in Vietnamese; a constant number of queries."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lookups.anomalies import anomaly_flags_write
from lookups.choices import AnomalyKind, Decision
from lookups.models import AnomalyFlag, LookupRecord
from lookups.services import citizen_id_hash
from lookups.validation import citizen_id_masked
from tests.helpers import login

VN = ZoneInfo("Asia/Ho_Chi_Minh")
URL = reverse("lookups:anomalies")


def _flagged(officer, *, at, citizen="075095001234", dossier="000.00.31.H19-210708-0032"):
    record = LookupRecord.objects.create(
        decided_at=at, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
        unit_code_then=officer.unit.code, dossier_code=dossier, purpose="Thử", decision=Decision.ALLOW,
        citizen_id_hash=citizen_id_hash(citizen), citizen_id_masked=citizen_id_masked(citizen))
    return anomaly_flags_write(record=record, officer=officer, quota=None)


@pytest.fixture
def flags(units, officer_bien_hoa, officer_long_khanh):
    """Biên Hòa: a night lookup (1 flag) and a Hà Nội citizen at night (2 flags, 03/12); Long Khánh: one."""
    night = _flagged(officer_bien_hoa, at=datetime(2026, 12, 1, 22, 0, tzinfo=VN))
    both = _flagged(officer_bien_hoa, at=datetime(2026, 12, 3, 21, 0, tzinfo=VN), citizen="001095001234")
    far = _flagged(officer_long_khanh, at=datetime(2026, 12, 2, 23, 0, tzinfo=VN))
    return {"night": night[0], "other_province": both[1], "both_night": both[0], "far": far[0]}


def _rows(response) -> list[int]:
    return [flag.pk for flag in response.context["page"].object_list]


def test_an_inspector_sees_every_flag_newest_first_in_vietnamese(client, inspector, flags):
    response = login(client, inspector).get(URL)
    assert response.status_code == 200
    assert _rows(response) == [flags["other_province"].pk, flags["both_night"].pk, flags["far"].pk,
                               flags["night"].pk]
    text = response.content.decode()
    assert "Tra cứu bất thường" in text and "Ngoài giờ hành chính" in text
    assert "Lúc 22:00, ngoài giờ hành chính." in text
    assert "075*******34" in text and "075095001234" not in text


def test_a_leader_sees_only_the_flags_of_their_subtree(client, leader_bien_hoa, flags):
    response = login(client, leader_bien_hoa).get(URL)
    assert sorted(_rows(response)) == sorted([flags["night"].pk, flags["both_night"].pk, flags["other_province"].pk])


def test_a_leader_gets_404_for_a_guessed_flag_outside_their_subtree(client, leader_bien_hoa, flags):
    login(client, leader_bien_hoa)
    assert client.get(reverse("lookups:anomaly", args=[flags["far"].pk])).status_code == 404
    assert client.get(reverse("lookups:anomaly", args=[999999])).status_code == 404
    assert client.get(reverse("lookups:anomaly", args=[flags["night"].pk])).status_code == 200


def test_an_officer_may_not_open_the_page(client, officer_bien_hoa, flags):
    login(client, officer_bien_hoa)
    assert client.get(URL).status_code == 403
    assert client.get(reverse("lookups:anomaly", args=[flags["night"].pk])).status_code == 403


def test_it_asks_anonymous_readers_to_sign_in(client, flags):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": AnomalyKind.CITIZEN_OTHER_PROVINCE}, ["other_province"]),
    ({"unit": "000.00.31.H19"}, ["other_province", "both_night", "night"]),  # the city and its wards
    ({"unit": "000.01.32.H19"}, ["far"]),
    ({"officer": "CB.TanPhong "}, ["other_province", "both_night", "night"]),
    ({"date_from": "02/12/2026", "date_to": "02/12/2026"}, ["far"]),
    ({"date_from": "03/12/2026", "kind": AnomalyKind.OUTSIDE_OFFICE_HOURS}, ["both_night"]),
])
def test_it_filters_the_flags(client, it_admin, flags, query, expected):
    response = login(client, it_admin).get(URL, query)
    assert response.status_code == 200
    assert _rows(response) == [flags[name].pk for name in expected]


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"date_from": "2026-12-01"}, "date_from", "Nhập một ngày hợp lệ."),
    ({"date_from": "03/12/2026", "date_to": "01/12/2026"}, "date_to", "Ngày kết thúc không được trước ngày bắt đầu."),
    ({"unit": "H19"}, "unit", "Nhập mã định danh đơn vị dạng 000.00.31.H19."),
    ({"kind": "everything"}, "kind", None),
])
def test_it_refuses_a_bad_filter_in_vietnamese_and_lists_nothing(client, it_admin, flags, query, field, message):
    response = login(client, it_admin).get(URL, query)
    assert response.status_code == 200
    assert _rows(response) == []
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]


def test_a_leader_cannot_filter_by_a_unit_outside_their_subtree(client, leader_bien_hoa, flags):
    response = login(client, leader_bien_hoa).get(URL, {"unit": "000.00.32.H19"})
    assert _rows(response) == []
    assert response.context["form"].errors == {"unit": ["Không có đơn vị mang mã này trong phạm vi bạn được xem."]}


def test_the_detail_page_shows_the_lookup_and_the_other_flags_of_it(client, inspector, flags):
    response = login(client, inspector).get(reverse("lookups:anomaly", args=[flags["both_night"].pk]))
    text = response.content.decode()
    assert [other.pk for other in response.context["siblings"]] == [flags["other_province"].pk]
    assert "Đăng ký khai sinh tại Hà Nội (mã 001)." in text
    assert "001*******34" in text
    assert reverse("lookups:history_export", args=[flags["both_night"].officer_id, "csv"]) in text


def test_the_list_costs_the_same_queries_for_three_flags_or_thirty(client, it_admin, officer_bien_hoa, flags):
    login(client, it_admin)
    client.get(URL)  # the session's first request writes it; measure the ones after
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(27):
        _flagged(officer_bien_hoa, at=datetime(2026, 12, 4, 22, n, tzinfo=VN), citizen=f"0750950{n:05d}",
                 dossier=f"000.00.31.H19-210708-{n + 100:04d}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert response.context["page"].paginator.count == 31
    assert [q["sql"][:90] for q in many] == [q["sql"][:90] for q in few]


def test_the_nav_offers_the_page_to_its_readers_only(client, it_admin, officer_bien_hoa, units):
    assert f'href="{URL}"' in login(client, it_admin).get(reverse("lookups:log")).content.decode()
    client.logout()
    officer_page = login(client, officer_bien_hoa).get(reverse("lookups:lookup")).content.decode()
    assert f'href="{URL}"' not in officer_page


def test_an_unprocessed_flag_says_it_waits_and_a_processed_one_where_it_is(client, it_admin, flags):
    from lookups import services
    from portal.actors import SystemActor

    login(client, it_admin)
    assert "Đang chờ ghi vào nhật ký an ninh" in client.get(URL, {"unit": "000.01.32.H19"}).content.decode()
    services.anomaly_flags_process(actor=SystemActor("anomaly_job"))
    assert "Đã ghi vào nhật ký an ninh" in client.get(URL, {"unit": "000.01.32.H19"}).content.decode()
    assert AnomalyFlag.objects.filter(processed_at__isnull=True).count() == 0
