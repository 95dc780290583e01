"""The lookup pages: the officer's lookup (the API's own decision, the answer masked until a recorded
POST shows it), and the lookup log (scope by the record's unit, search by the full citizen ID without
ever putting it in a URL or echoing it, bad filters refused in Vietnamese, constant queries)."""
import html
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.template.defaultfilters import urlencode as urlencode_filter
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from audit.choices import EventKind
from audit.models import SecurityEvent
from lookups import views
from lookups.choices import QuotaWindow
from lookups.models import LookupRecord, QuotaOverride
from lookups.registry import SyntheticRegistry
from lookups.services import citizen_id_hash, lookup_decide
from portal.audit_context import audit_context
from tests.factories import UserFactory
from tests.helpers import login

CITIZEN = "075095001234"  # a man born in 1995, registered in Đồng Nai
OTHER_CITIZEN = "075301004567"  # a woman born in 2001
DOSSIER = "000.00.31.H19-210708-0032"
PURPOSE = "Cấp bản sao trích lục khai sinh"
URL_ATTRIBUTE = re.compile(r'(?:href|action|src)="([^"]*)"')


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _look_up(client, **changes):
    data = {"citizen_id": CITIZEN, "dossier_code": DOSSIER, "purpose": PURPOSE, **changes}
    return client.post(reverse("lookups:lookup"), data)


def _decide(officer, citizen=CITIZEN):
    with audit_context():
        return lookup_decide(actor=officer, client=None, officer_username=officer.username, citizen_id=citizen,
                             dossier_code=DOSSIER, purpose=PURPOSE)


@pytest.fixture
def officer(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    return officer_bien_hoa


@pytest.fixture
def looker_long_khanh(units):
    return UserFactory(username="cb.xuanan.tracuu", role=Role.OFFICER, unit=units["xuan_an"], can_lookup=True)


# ----- the officer's page ------------------------------------------------------------------------------

def test_it_allows_a_lookup_through_the_page_and_shows_the_answer_masked(client, officer):
    response = _look_up(client)
    record = LookupRecord.objects.get()
    answer = SyntheticRegistry().fetch(CITIZEN)
    text = _text(response)
    assert (response.status_code, record.decision, record.officer_id, record.client_id) == (200, "allow",
                                                                                            officer.pk, None)
    assert response.context["masked"] == answer.masked()
    assert response.context["masked"].birth_year == 1995
    assert answer.full_name not in text and answer.permanent_address not in text
    assert f"Lượt tra cứu số {record.pk}, số định danh cá nhân 075*******34." in text
    assert text.count(CITIZEN) == 1  # only in the reveal form's hidden field, posted back
    assert f'<input type="hidden" name="citizen_id" value="{CITIZEN}"' in text
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).count() == 0


@pytest.mark.parametrize(("changes", "reason", "message"), [
    ({"citizen_id": "272123456"}, "cmnd_not_accepted",
     "Không chấp nhận số chứng minh nhân dân (CMND) 9 chữ số: nhập số định danh cá nhân 12 chữ số của công dân."),
    ({"citizen_id": "07509500123a"}, "citizen_id_malformed", "Số định danh cá nhân gồm đúng 12 chữ số."),
    ({"dossier_code": "HS-2021-32"}, "dossier_malformed",
     "Nhập mã hồ sơ theo dạng <mã cơ quan>-<yymmdd>-<số thứ tự 4 chữ số>, ví dụ 000.00.32.H19-210708-0032."),
    ({"purpose": ""}, "purpose_missing", "Nhập mục đích tra cứu."),
])
def test_it_refuses_bad_input_on_the_page_with_its_message_and_records_it(client, officer, changes, reason,
                                                                          message):
    response = _look_up(client, **changes)
    assert (response.status_code, list(LookupRecord.objects.values_list("decision", "reason"))) == (
        200, [("refuse", reason)])
    assert message in _text(response)
    assert "masked" not in response.context


def test_it_refuses_a_locked_officer_on_the_page(client, officer):
    AccessAttempt.objects.create(username=officer.username, ip_address="10.0.0.1", user_agent="ua",
                                 http_accept="*/*", path_info="/accounts/login/", attempt_time=timezone.now(),
                                 failures_since_start=5, get_data="", post_data="")
    response = _look_up(client)
    assert LookupRecord.objects.get().reason == "officer_locked"
    assert "Tài khoản của cán bộ đang bị khóa do đăng nhập sai nhiều lần." in _text(response)


def test_it_refuses_over_the_officers_quota_on_the_page(client, officer):
    QuotaOverride.objects.create(unit=officer.unit, window=QuotaWindow.OFFICER_MINUTE, limit=1)
    first, second = _look_up(client), _look_up(client)
    assert list(LookupRecord.objects.order_by("pk").values_list("reason", flat=True)) == ["", "quota_officer_minute"]
    assert "masked" in first.context and "masked" not in second.context
    assert "Cán bộ đã dùng hết số lượt tra cứu trong phút này. Vui lòng thử lại sau" in _text(second)


def test_it_shows_the_answer_in_full_only_through_a_recorded_post(client, officer):
    _look_up(client)
    record = LookupRecord.objects.get()
    url = reverse("lookups:reveal", args=[record.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"citizen_id": CITIZEN})
    answer = SyntheticRegistry().fetch(CITIZEN)
    event = SecurityEvent.objects.get(kind=EventKind.LOOKUP_REVEALED)
    assert (response.status_code, response.context["revealed"]) == (200, answer)
    assert answer.full_name in _text(response) and answer.permanent_address in _text(response)
    assert (event.actor_id, event.details["lookup"], event.unit_id) == (officer.pk, record.pk, officer.unit_id)
    assert CITIZEN not in _text(response)
    assert LookupRecord.objects.count() == 1  # showing is not another lookup


def test_it_refuses_to_show_another_citizen_or_another_officers_lookup(client, officer, looker_long_khanh):
    _look_up(client)
    own = LookupRecord.objects.get()
    others = _decide(looker_long_khanh).record_id
    refused = _decide(officer, citizen="272123456").record_id
    for pk, citizen in [(own.pk, OTHER_CITIZEN), (others, CITIZEN), (refused, "272123456"), (own.pk, "")]:
        response = client.post(reverse("lookups:reveal", args=[pk]), {"citizen_id": citizen})
        assert (response.status_code, response["Location"]) == (302, reverse("lookups:lookup"))
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).count() == 0
    page = client.get(reverse("lookups:lookup"))
    assert "Không thể xem đầy đủ kết quả của lượt tra cứu này nữa: hãy tra cứu lại công dân." in _text(page)


def test_it_refuses_to_show_a_lookup_older_than_the_reveal_window(client, officer):
    _look_up(client)
    record = LookupRecord.objects.get()
    with connection.cursor() as cursor:  # the records are append-only: age the row below the trigger
        cursor.execute("ALTER TABLE lookups_lookuprecord DISABLE TRIGGER lookups_lookuprecord_no_update")
        cursor.execute("UPDATE lookups_lookuprecord SET decided_at = %s WHERE id = %s",
                       [timezone.now() - timedelta(minutes=31), record.pk])
        cursor.execute("ALTER TABLE lookups_lookuprecord ENABLE TRIGGER lookups_lookuprecord_no_update")
    response = client.post(reverse("lookups:reveal", args=[record.pk]), {"citizen_id": CITIZEN})
    assert response.status_code == 302
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).count() == 0


def test_it_puts_no_citizen_id_in_any_url_of_the_pages(client, officer):
    allowed = _look_up(client)
    record = LookupRecord.objects.get()
    revealed = client.post(reverse("lookups:reveal", args=[record.pk]), {"citizen_id": CITIZEN})
    listed = client.get(reverse("lookups:lookup"))
    urls = [url for response in (allowed, revealed, listed) for url in URL_ATTRIBUTE.findall(_text(response))]
    assert len(urls) > 5
    assert [url for url in urls if CITIZEN in url or "citizen" in url] == []
    assert re.findall(r'<form method="(\w+)" action="/lookups/', _text(allowed)) == ["post", "post"]


def test_it_lists_the_officers_own_recent_lookups_masked(client, officer, looker_long_khanh):
    _look_up(client)
    _look_up(client, citizen_id="272123456")
    _decide(looker_long_khanh)
    response = client.get(reverse("lookups:lookup"))
    rows = [(r.citizen_id_masked, r.dossier_code, r.decision) for r in response.context["recent"]]
    assert rows == [("272****56", DOSSIER, "refuse"), ("075*******34", DOSSIER, "allow")]
    assert CITIZEN not in _text(response) and "272123456" not in _text(response)


def test_it_opens_the_lookup_page_only_to_officers_with_the_right(client, it_admin, inspector, leader_bien_hoa,
                                                                  officer_long_khanh, officer_bien_hoa):
    statuses = {}
    for user in (it_admin, inspector, leader_bien_hoa, officer_long_khanh, officer_bien_hoa):
        login(client, user)
        statuses[user.username] = (client.get(reverse("lookups:lookup")).status_code,
                                   _look_up(client).status_code)
    assert statuses == {"qt.admin": (403, 403), "tt.inspector": (403, 403), "ld.bienhoa": (403, 403),
                        "cb.xuanan": (403, 403), "cb.tanphong": (200, 200)}
    assert LookupRecord.objects.count() == 1


def test_it_refuses_a_lookup_or_a_reveal_posted_without_the_csrf_token(officer_bien_hoa):
    client = login(Client(enforce_csrf_checks=True), officer_bien_hoa)
    record_id = _decide(officer_bien_hoa).record_id
    assert _look_up(client).status_code == 403
    assert client.post(reverse("lookups:reveal", args=[record_id]), {"citizen_id": CITIZEN}).status_code == 403
    assert LookupRecord.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=EventKind.LOOKUP_REVEALED).count() == 0


def test_the_nav_shows_each_page_to_whom_it_opens(client, officer_bien_hoa, officer_long_khanh, leader_bien_hoa,
                                                  inspector):
    shown = {}
    for user in (officer_bien_hoa, officer_long_khanh, leader_bien_hoa, inspector):
        text = _text(login(client, user).get(reverse("accounts:turnover_list")))
        shown[user.username] = ("Tra cứu công dân" in text, "Nhật ký tra cứu" in text)
    assert shown == {"cb.tanphong": (True, False), "cb.xuanan": (False, False), "ld.bienhoa": (False, True),
                     "tt.inspector": (False, True)}


# ----- the lookup log ----------------------------------------------------------------------------------

@pytest.fixture
def records(officer_bien_hoa, looker_long_khanh, long_khanh_client):
    """Two lookups in Tân Phong (Biên Hòa), one in Xuân An (Long Khánh), one refused for an unknown
    officer (no unit)."""
    ids = {"bien_hoa": [_decide(officer_bien_hoa).record_id, _decide(officer_bien_hoa, OTHER_CITIZEN).record_id],
           "long_khanh": [_decide(looker_long_khanh).record_id]}
    with audit_context():
        ids["unknown"] = [lookup_decide(actor=looker_long_khanh, client=long_khanh_client[0], officer_username="ai.do",
                                        citizen_id=CITIZEN, dossier_code=DOSSIER, purpose=PURPOSE).record_id]
    return ids


def _rows(response):
    return [record.pk for record in response.context["page"]]


def test_it_shows_a_leader_exactly_the_records_of_their_subtree(client, records, leader_bien_hoa, inspector,
                                                                 it_admin):
    everything = sorted(pk for pks in records.values() for pk in pks)
    seen = {}
    for user in (leader_bien_hoa, inspector, it_admin):
        seen[user.username] = sorted(_rows(login(client, user).get(reverse("lookups:log"))))
    assert seen == {"ld.bienhoa": sorted(records["bien_hoa"]), "tt.inspector": everything, "qt.admin": everything}
    filtered = client.post(reverse("lookups:log"), {"unit": "000.01.32.H19"})
    assert _rows(filtered) == records["long_khanh"]  # the admin filtering by Xuân An
    login(client, leader_bien_hoa)
    assert _rows(client.post(reverse("lookups:log"), {"unit": "000.01.32.H19"})) == []
    assert _rows(client.post(reverse("lookups:log"), {"citizen_id": CITIZEN})) == records["bien_hoa"][:1]


def test_it_refuses_the_log_to_officers(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    assert (client.get(reverse("lookups:log")).status_code, client.post(reverse("lookups:log")).status_code) == (
        403, 403)


def test_it_finds_exactly_one_citizens_records_by_the_full_id_and_never_echoes_it(client, records, inspector):
    login(client, inspector)
    response = client.post(reverse("lookups:log"), {"citizen_id": CITIZEN})
    expected = sorted(records["bien_hoa"][:1] + records["long_khanh"] + records["unknown"])
    text = _text(response)
    assert sorted(_rows(response)) == expected
    assert CITIZEN not in text
    assert "Các lượt tra cứu công dân có số định danh 075*******34." in text
    assert f'name="citizen" value="{citizen_id_hash(CITIZEN)}"' in text
    assert [url for url in URL_ATTRIBUTE.findall(text) if "citizen" in url or CITIZEN in url] == []


def test_it_carries_the_citizen_filter_to_the_next_page_by_its_hash(client, records, inspector, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    login(client, inspector)
    first = client.post(reverse("lookups:log"), {"citizen_id": CITIZEN})
    assert first.context["page"].has_next and not first.context["page"].has_previous
    carried = {"citizen": citizen_id_hash(CITIZEN), "citizen_masked": "075*******34"}
    second = client.post(reverse("lookups:log"), {**carried, "after": first.context["page"].next_key})
    back = client.post(reverse("lookups:log"), {**carried, "before": second.context["page"].previous_key})
    dropped = client.post(reverse("lookups:log"), {**carried, "drop_citizen": "1"})
    everything = sorted(records["bien_hoa"][:1] + records["long_khanh"] + records["unknown"])
    assert sorted(_rows(first) + _rows(second)) == everything
    assert len(_rows(second)) == 1 and not second.context["page"].has_next and second.context["page"].has_previous
    assert _rows(back) == _rows(first)
    assert len(_rows(dropped)) == 2 and dropped.context["page"].has_next  # 4 records, no count read


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"citizen_id": "272123456"}, "citizen_id",
     "Không chấp nhận số chứng minh nhân dân (CMND) 9 chữ số: nhập số định danh cá nhân 12 chữ số của công dân."),
    ({"citizen_id": "07509500123a"}, "citizen_id", "Số định danh cá nhân gồm đúng 12 chữ số."),
    ({"date_from": "31/02/2026"}, "date_from", "Nhập một ngày hợp lệ."),
    ({"date_from": "02/12/2026", "date_to": "01/12/2026"}, "date_to", "Ngày kết thúc không được trước ngày bắt đầu."),
    ({"unit": "Biên Hòa"}, "unit", "Nhập mã định danh đơn vị dạng 000.00.31.H19."),
    ({"citizen": "not-a-hash"}, "citizen", "Nhập một giá trị hợp lệ."),
])
def test_it_refuses_a_bad_log_filter_in_vietnamese_and_lists_nothing(client, records, inspector, data, field,
                                                                       message):
    login(client, inspector)
    response = client.post(reverse("lookups:log"), data)
    assert (response.status_code, response.context["form"].errors[field], _rows(response)) == (200, [message], [])
    if field != "citizen":
        assert message in _text(response)
    assert "07509500123a" not in _text(response)


def test_it_filters_the_log_by_officer_decision_reason_and_dates(client, records, inspector):
    login(client, inspector)
    today = timezone.localdate().strftime("%d/%m/%Y")
    tomorrow = (timezone.localdate() + timedelta(days=1)).strftime("%d/%m/%Y")
    log = reverse("lookups:log")
    assert sorted(_rows(client.post(log, {"officer": "CB.TanPhong"}))) == sorted(records["bien_hoa"])
    assert _rows(client.post(log, {"decision": "refuse"})) == records["unknown"]
    assert _rows(client.post(log, {"reason": "out_of_scope"})) == records["unknown"]
    assert len(_rows(client.post(log, {"date_from": today, "date_to": today}))) == 4
    assert _rows(client.post(log, {"date_from": tomorrow})) == []


def test_the_log_answers_in_a_constant_number_of_queries(client, records, inspector, looker_long_khanh,
                                                        django_assert_num_queries):
    login(client, inspector)
    client.get(reverse("lookups:log"))  # the session and the policy's cache warmed
    with CaptureQueriesContext(connection) as few:
        client.post(reverse("lookups:log"), {"decision": "allow"})
    for _ in range(6):
        _decide(looker_long_khanh, OTHER_CITIZEN)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.post(reverse("lookups:log"), {"decision": "allow"})
    assert len(_rows(response)) == 9


def test_it_writes_no_citizen_id_to_the_logs(client, officer, caplog):
    caplog.set_level("DEBUG")
    _look_up(client)
    client.post(reverse("lookups:reveal", args=[LookupRecord.objects.get().pk]), {"citizen_id": CITIZEN})
    client.post(reverse("lookups:reveal", args=[0]), {"citizen_id": CITIZEN})
    _look_up(client, citizen_id="272123456")
    assert [line for line in caplog.text.splitlines() if CITIZEN in line or "272123456" in line] == []


# ----- the synthetic registry --------------------------------------------------------------------------

def test_the_synthetic_registry_takes_birth_year_and_gender_from_the_id(settings):
    registry = SyntheticRegistry()
    man, woman, again = registry.fetch(CITIZEN), registry.fetch(OTHER_CITIZEN), registry.fetch(CITIZEN)
    assert (man.birth_date.year, man.gender, woman.birth_date.year, woman.gender) == (1995, "male", 2001, "female")
    assert man == again
    assert man.permanent_address.endswith(", tỉnh Đồng Nai")
    assert registry.fetch("079100001111").permanent_address.endswith(", thành phố Hồ Chí Minh")
    assert len(man.full_name.split()) == 3


def test_the_masked_answer_keeps_initials_birth_year_and_province_only():
    masked = SyntheticRegistry().fetch(CITIZEN).masked()
    full = SyntheticRegistry().fetch(CITIZEN)
    assert masked.initials == " ".join(f"{word[0]}." for word in full.full_name.split())
    assert (masked.birth_year, masked.address) == (1995, "***, ***, ***, tỉnh Đồng Nai")


def test_the_registry_is_the_one_the_settings_name(settings):
    from lookups.registry import registry_adapter

    settings.LOOKUP_REGISTRY = "lookups.registry.SyntheticRegistry"
    assert type(registry_adapter()) is SyntheticRegistry


def test_the_log_filters_are_a_get_so_a_view_can_be_bookmarked_and_paged(client, records, inspector, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    login(client, inspector)
    log = reverse("lookups:log")
    first = client.get(log, {"officer": "cb.tanphong", "decision": "allow"})
    assert _rows(first) == records["bien_hoa"][1:]
    text = _text(first)
    next_key = first.context["page"].next_key
    assert f'href="?officer=cb.tanphong&decision=allow&after={urlencode_filter(next_key)}"' in text
    second = client.get(log, {"officer": "cb.tanphong", "decision": "allow", "after": first.context["page"].next_key})
    assert _rows(second) == records["bien_hoa"][:1]
    assert '/compliance/export/lookups.xlsx?officer=cb.tanphong&decision=allow"' in text


def test_a_unit_filter_means_the_unit_and_the_units_below_it_unless_asked_otherwise(client, records, inspector,
                                                                                   units):
    login(client, inspector)
    log = reverse("lookups:log")
    assert sorted(_rows(client.get(log, {"unit": units["bien_hoa"].code}))) == sorted(records["bien_hoa"])
    assert _rows(client.get(log, {"unit": units["bien_hoa"].code, "unit_exact": "on"})) == []
    assert sorted(_rows(client.get(log, {"unit": units["tan_phong"].code, "unit_exact": "on"}))) == sorted(
        records["bien_hoa"])
    exported = client.get("/compliance/export/lookups.csv", {"unit": units["bien_hoa"].code})
    assert len(exported.content.decode("utf-8-sig").splitlines()) == 3


def test_a_citizen_id_in_the_address_is_ignored(client, records, inspector):
    login(client, inspector)
    response = client.get(reverse("lookups:log"), {"citizen_id": CITIZEN, "citizen": citizen_id_hash(CITIZEN)})
    assert len(_rows(response)) == 4
    assert response.context["citizen"] == {}
