"""POST /api/v1/lookups/ as docs/architecture.md's public contract says (its OpenAPI document: test_openapi_document.py)."""
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from audit.models import SecurityEvent
from lookups.choices import QuotaWindow
from lookups.models import ApiClient, LookupRecord, QuotaOverride
from tests.helpers import run_concurrently

URL = "/api/v1/lookups/"
CITIZEN = "075095001234"
BODY = {"officer": "cb.tanphong", "citizen_id": CITIZEN, "dossier_code": "000.00.31.H19-210708-0032",
        "purpose": "Cấp bản sao trích lục khai sinh"}


def _post(token, body=None, *, raw=None, client=None):
    client = client or Client(enforce_csrf_checks=True)
    data = raw if raw is not None else json.dumps(body if body is not None else BODY)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(URL, data=data, content_type="application/json", **headers)


@pytest.fixture
def token(province_client):
    return province_client[1]


def test_it_allows_with_the_lookup_id_and_the_ratelimit_headers(token, officer_bien_hoa):
    response = _post(token)
    assert response.status_code == 200
    record = LookupRecord.objects.get()
    assert response.json() == {"decision": "allow", "lookup_id": record.pk}
    assert response["RateLimit-Policy"].startswith('"officer_minute";q=10;w=60')
    assert response["RateLimit"].startswith('"officer_minute";r=9;')
    assert "Retry-After" not in response
    assert record.request_id == response["X-Request-ID"]
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


@pytest.mark.parametrize("authorization", [None, "Bearer lk_not-a-token", "Basic dXNlcjpwYXNz"])
def test_it_refuses_without_a_valid_token(db, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().post(URL, data=json.dumps(BODY), content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.json() == {
        "decision": "refuse", "reason": "unauthenticated",
        "message": "Thiếu mã truy cập của hệ thống kết nối, mã không hợp lệ hoặc đã bị thu hồi: gửi mã trong "
                   "tiêu đề Authorization (Bearer)."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_it_refuses_a_revoked_token(token, officer_bien_hoa, capsys):
    assert _post(token).status_code == 200
    call_command("revoke_api_client", "Hệ thống một cửa tỉnh")
    response = _post(token)
    assert (response.status_code, response.json()["reason"]) == (401, "unauthenticated")
    assert LookupRecord.objects.count() == 1
    assert SecurityEvent.objects.filter(kind="api_client_revoked").count() == 1


def test_it_prints_a_new_token_once_and_keeps_only_its_hash(units, officer_long_khanh, capsys):
    call_command("create_api_client", "Cổng dịch vụ công Long Khánh", "--unit", "000.00.32.H19")
    token = capsys.readouterr().out.strip()
    assert token.startswith("lk_") and len(token) == 46  # "lk_" and 32 random bytes in base64url
    client = ApiClient.objects.get()
    assert (client.unit.code, client.token_prefix) == ("000.00.32.H19", token[:10])
    assert token not in client.token_hash
    assert SecurityEvent.objects.filter(kind="api_client_created").count() == 1
    response = _post(token, dict(BODY, officer="cb.xuanan"))
    assert response.json()["reason"] == "no_lookup_right"  # authenticated: decided


def test_a_long_khanh_token_cannot_decide_for_a_bien_hoa_officer(long_khanh_client, officer_bien_hoa):
    response = _post(long_khanh_client[1])
    assert response.status_code == 403
    assert response.json() == {"decision": "refuse", "reason": "out_of_scope",
                               "message": "Cán bộ không thuộc các đơn vị mà hệ thống này được phép quyết định tra cứu."}
    assert LookupRecord.objects.get().reason == "out_of_scope"


@pytest.mark.parametrize(("change", "status", "reason"), [
    ({"officer": "khong.ton.tai"}, 403, "out_of_scope"),
    ({"citizen_id": "272123456"}, 400, "cmnd_not_accepted"),
    ({"citizen_id": "999095001234"}, 400, "citizen_id_malformed"),
    ({"dossier_code": ""}, 400, "dossier_missing"),
    ({"dossier_code": "HS-1"}, 400, "dossier_malformed"),
    ({"purpose": ""}, 400, "purpose_missing"),
])
def test_it_answers_each_refusal_with_its_status(token, officer_bien_hoa, change, status, reason):
    response = _post(token, dict(BODY, **change))
    assert (response.status_code, response.json()["decision"], response.json()["reason"]) == (status, "refuse", reason)
    assert response.json()["message"]
    assert LookupRecord.objects.get().reason == reason


def test_it_refuses_an_officer_without_the_right_with_403(token, officer_bien_hoa):
    officer_bien_hoa.can_lookup = False
    officer_bien_hoa.save(update_fields=["can_lookup"])
    response = _post(token)
    assert (response.status_code, response.json()["reason"]) == (403, "no_lookup_right")
    assert response.json()["message"] == "Cán bộ không có quyền tra cứu thông tin công dân."


MALFORMED = "Nội dung yêu cầu phải là một đối tượng JSON không quá 4 KB, gồm các trường văn bản officer, " \
            "citizen_id, dossier_code và purpose, không có trường nào khác."


@pytest.mark.parametrize(("raw", "named"), [
    ('{"officer": "cb.tanphong", "citizen_id": ', ""),  # not JSON
    ("[1, 2]", ""),  # not an object
    (json.dumps(dict(BODY, citizen_id=75095001234)), "cb.tanphong"),  # a number, not text
    (json.dumps(dict(BODY, purpose=None)), "cb.tanphong"),
    (json.dumps(dict(BODY, officer=["cb.tanphong"])), ""),
    (json.dumps(dict(BODY, extra="x")), "cb.tanphong"),  # a field the contract does not have
    (json.dumps({k: v for k, v in BODY.items() if k != "officer"}), ""),
    (json.dumps(dict(BODY, purpose="x" * 4100)), ""),  # over 4 KB: not even read
])
def test_it_refuses_a_body_it_cannot_read_with_400_and_records_it(token, officer_bien_hoa, raw, named):
    response = _post(token, raw=raw)
    assert response.status_code == 400
    assert response.json() == {"decision": "refuse", "reason": "malformed", "message": MALFORMED}
    record = LookupRecord.objects.get()
    assert (record.decision, record.reason, record.officer_username) == ("refuse", "malformed", named)
    assert record.officer_id == (officer_bien_hoa.pk if named else None)


def test_it_answers_429_with_retry_after_over_the_officer_minute(token, officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=1)
    assert _post(token).status_code == 200
    response = _post(token)
    assert (response.status_code, response.json()["reason"]) == (429, "quota_officer_minute")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["RateLimit"].startswith('"officer_minute";r=0;')
    assert LookupRecord.objects.count() == 2


def test_it_answers_503_with_retry_after_when_quotas_cannot_be_counted(token, officer_bien_hoa, settings):
    with connection.cursor() as cursor:  # the counters' table gone: the database cannot count
        cursor.execute("ALTER TABLE lookups_quotacounter RENAME TO lookups_quotacounter_away")
    try:
        response = _post(token)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE lookups_quotacounter_away RENAME TO lookups_quotacounter")
    assert (response.status_code, response.json()["reason"]) == (503, "quota_unavailable")
    assert response["Retry-After"] == str(settings.QUOTA_UNAVAILABLE_RETRY_AFTER)
    assert list(LookupRecord.objects.values_list("decision", "reason")) == [("refuse", "quota_unavailable")]


def test_it_decides_with_the_quota_redis_down(token, officer_bien_hoa, settings, closed_port_url):
    settings.QUOTA_REDIS_URL = closed_port_url  # only the per-client rate limit uses it: it lets calls pass
    response = _post(token)
    assert response.status_code == 200
    assert LookupRecord.objects.get().decision == "allow"


def test_it_keeps_no_citizen_id_in_clear_in_any_table(token, officer_bien_hoa):
    _post(token)
    _post(token, dict(BODY, citizen_id="272123456"))  # an old CMND, refused
    _post(token, raw=json.dumps(dict(BODY, citizen_id="075095004321", extra=1)))  # malformed body
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            cursor.execute(f'SELECT t::text FROM "{table}" AS t')
            rows.extend(f"{table}: {row[0]}" for row in cursor.fetchall())
    dump = "\n".join(rows)
    assert "lookups_lookuprecord" in dump and LookupRecord.objects.count() == 3
    for typed in (CITIZEN, "272123456", "075095004321"):
        assert typed not in dump, typed


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_calls_against_a_minute_quota_of_ten_allow_exactly_ten(province_client, officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=10)
    token = province_client[1]
    outcomes = run_concurrently(*[lambda: _post(token).status_code for _ in range(50)], timeout=60)
    assert sorted(outcomes) == [200] * 10 + [429] * 40
    assert LookupRecord.objects.count() == 50
    assert LookupRecord.objects.filter(decision="allow").count() == 10


@pytest.mark.parametrize("officer", ["cb.tan\u0000phong", "cb.tanphong\u200b", "cb.tan\nphong"])
def test_an_officer_name_with_a_control_character_is_refused_and_recorded(token, officer_bien_hoa, officer):
    # Found by Schemathesis-style fuzzing: a NUL reached the username query, which PostgreSQL refuses.
    response = _post(token, {**BODY, "officer": officer})
    assert (response.status_code, response.json()["reason"]) == (403, "out_of_scope")
    assert list(LookupRecord.objects.values_list("decision", "reason", "officer_username")) == [
        ("refuse", "out_of_scope", "")]


SURROGATE_MESSAGE = ("Yêu cầu có văn bản không phải Unicode hợp lệ (một nửa cặp thay thế đứng riêng): gửi mỗi "
                     "trường dưới dạng văn bản UTF-8 hợp lệ.")


@pytest.mark.parametrize("field", ["officer", "citizen_id", "dossier_code", "purpose"])
def test_a_lone_surrogate_in_any_field_is_a_recorded_400(token, officer_bien_hoa, field):
    """Issue 22: JSON may escape a lone UTF-16 surrogate ("\\ud800"); it gave a 500 and no record."""
    raw = json.dumps(BODY).replace(json.dumps(BODY[field]), json.dumps(BODY[field])[:-1] + '\\ud800"')
    response = _post(token, raw=raw)
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert response.json()["message"] in (MALFORMED, SURROGATE_MESSAGE)
    record = LookupRecord.objects.get()
    assert (record.decision, record.reason) == ("refuse", "malformed")


def test_a_body_that_is_not_utf8_is_a_recorded_400(token, officer_bien_hoa):
    response = _post(token, raw=json.dumps(BODY).encode().replace(b"cb.tanphong", b"cb.tan\xffphong"))
    assert (response.status_code, response.json()["reason"]) == (400, "malformed")
    assert list(LookupRecord.objects.values_list("decision", "reason")) == [("refuse", "malformed")]
