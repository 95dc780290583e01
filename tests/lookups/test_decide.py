"""lookup_decide: every refusal with its code and Vietnamese message, quotas consulted last, and every
decision recorded exactly once (the citizen ID only hashed and masked)."""
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.choices import PasswordChangeReason
from accounts.selectors import account_is_locked
from lookups.choices import QuotaWindow
from lookups.models import LookupRecord, QuotaCounter, QuotaOverride
from lookups.services import citizen_id_hash, decisions, lookup_decide
from lookups.validation import PROVINCE_CODES, citizen_id_checked, dossier_code_checked
from portal.actors import SystemActor
from portal.audit_context import audit_context
from portal.errors import PolicyViolation

CITIZEN = "075095001234"
DOSSIER = "000.00.31.H19-210708-0032"
PURPOSE = "Cấp bản sao trích lục khai sinh"
API = SystemActor("lookup_api")


def _decide(client, officer="cb.tanphong", **changes):
    fields = {"officer_username": officer, "citizen_id": CITIZEN, "dossier_code": DOSSIER, "purpose": PURPOSE}
    fields.update(changes)
    with audit_context(ip_address="10.20.30.40", request_id="req-1"):
        return lookup_decide(actor=API, client=client, **fields)


@pytest.fixture
def province(province_client):
    return province_client[0]


def _counted() -> int:
    """Lookups counted against the quotas today (the officers' day counters)."""
    return sum(QuotaCounter.objects.filter(key__endswith=":day", key__startswith="officer:").values_list("count", flat=True))


def test_it_knows_the_63_province_codes_of_the_circular():
    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["075"] == "Đồng Nai" and PROVINCE_CODES["001"] == "Hà Nội"
    assert PROVINCE_CODES["096"] == "Cà Mau"


@pytest.mark.parametrize(("value", "code"), [
    ("", "citizen_id_missing"),
    ("272123456", "cmnd_not_accepted"),
    ("07509500123", "citizen_id_malformed"),
    ("0750950012345", "citizen_id_malformed"),
    ("07509500123a", "citizen_id_malformed"),
    ("٠٧٥٠٩٥٠٠١٢٣٤", "citizen_id_malformed"),  # Arabic-Indic digits are digits to str.isdigit, not here
    ("003095001234", "citizen_id_malformed"),  # 003 is no province's code
    ("075495001234", "citizen_id_malformed"),  # 4: born in the 22nd century
    ("075299001234", "citizen_id_malformed"),  # 2 and 99: born in 2099
])
def test_it_refuses_a_citizen_id_that_is_not_one(value, code):
    with pytest.raises(PolicyViolation) as refused:
        citizen_id_checked(value, today=date(2026, 12, 1))
    assert refused.value.code == code


@pytest.mark.parametrize("value", ["075095001234", "001195001234", "096226001234", "079325001234"])
def test_it_takes_a_citizen_id_of_the_20th_and_21st_centuries(value):
    assert citizen_id_checked(value, today=date(2026, 12, 1)) == value


@pytest.mark.parametrize(("value", "code"), [
    ("", "dossier_missing"),
    ("000.00.32.H19-210708", "dossier_malformed"),
    ("000.00.32.H19-210230-0032", "dossier_malformed"),  # 30 February
    ("000.00.32.H19-270708-0032", "dossier_malformed"),  # received after today
    ("000.00.32.H19-210708-0000", "dossier_malformed"),
    ("00.00.32.H19-210708-0032", "dossier_malformed"),
    ("000.00.32.h19-210708-0032", "dossier_malformed"),
])
def test_it_refuses_a_dossier_code_not_of_the_national_form(value, code):
    with pytest.raises(PolicyViolation) as refused:
        dossier_code_checked(value, today=date(2026, 12, 1))
    assert refused.value.code == code


def test_it_allows_and_records_the_lookup_once(province, officer_bien_hoa):
    decision = _decide(province)
    assert decision.allowed is True and decision.reason == ""
    record = LookupRecord.objects.get()
    assert decision.record_id == record.pk
    assert (record.decision, record.reason, record.officer_id, record.officer_username) == (
        "allow", "", officer_bien_hoa.pk, "cb.tanphong")
    assert (record.unit_id_then, record.unit_code_then) == (officer_bien_hoa.unit_id, "000.01.31.H19")
    assert (record.client_id, record.dossier_code, record.purpose) == (province.pk, DOSSIER, PURPOSE)
    assert (record.ip_address, record.request_id) == ("10.20.30.40", "req-1")
    assert record.citizen_id_masked == "075*******34"
    assert record.citizen_id_hash == citizen_id_hash(CITIZEN) and len(record.citizen_id_hash) == 64
    assert _counted() == 1


def test_it_finds_who_looked_up_a_citizen_by_the_typed_number(province, officer_bien_hoa):
    _decide(province)
    _decide(province, citizen_id="075095009999")
    assert LookupRecord.objects.filter(citizen_id_hash=citizen_id_hash(CITIZEN)).count() == 1


def _lock(officer):
    AccessAttempt.objects.create(username=officer.username, ip_address="10.0.0.1", user_agent="ua",
                                 http_accept="*/*", path_info="/accounts/login/", attempt_time=timezone.now(),
                                 failures_since_start=5, get_data="", post_data="")
    assert account_is_locked(officer)


def _disable(officer):
    officer.is_active = False
    officer.save(update_fields=["is_active"])


def _force_change(officer):
    officer.password_change_reason = PasswordChangeReason.FORCED
    officer.save(update_fields=["password_change_reason"])


def _no_right(officer):
    officer.can_lookup = False
    officer.save(update_fields=["can_lookup"])


@pytest.mark.parametrize(("change", "reason", "message"), [
    (_disable, "officer_disabled", "Không có tài khoản đang hoạt động với tên đăng nhập này."),
    (_lock, "officer_locked", "Tài khoản của cán bộ đang bị khóa do đăng nhập sai nhiều lần."),
    (_force_change, "officer_must_change_password", "Cán bộ phải đổi mật khẩu trước khi tra cứu thông tin công dân."),
    (_no_right, "no_lookup_right", "Cán bộ không có quyền tra cứu thông tin công dân."),
])
def test_it_refuses_an_officer_who_may_not_look_up_and_records_it(province, officer_bien_hoa, change, reason,
                                                                   message):
    change(officer_bien_hoa)
    decision = _decide(province)
    assert (decision.allowed, decision.reason, str(decision.error.message)) == (False, reason, message)
    assert decision.error.status == 403
    record = LookupRecord.objects.get()
    assert (record.decision, record.reason, record.officer_id) == ("refuse", reason, officer_bien_hoa.pk)
    assert _counted() == 0


def test_it_refuses_an_unknown_officer_as_out_of_scope_and_records_the_name_typed(province, units):
    decision = _decide(province, officer="khong.ton.tai")
    assert (decision.reason, decision.error.status) == ("out_of_scope", 403)
    record = LookupRecord.objects.get()
    assert (record.officer_id, record.officer_username, record.unit_code_then) == (None, "khong.ton.tai", "")


@pytest.mark.parametrize("state", [None, _disable, _lock, _force_change, _no_right])
def test_a_client_cannot_tell_an_account_outside_its_units_from_no_account(long_khanh_client, officer_bien_hoa, state):
    """Issue 22: the state of an account outside the client's subtree was answered before its scope."""
    if state is not None:
        state(officer_bien_hoa)
    outside = _decide(long_khanh_client[0])
    unknown = _decide(long_khanh_client[0], officer="khong.ton.tai")
    assert (outside.reason, outside.error.status, str(outside.error.message)) == (
        unknown.reason, unknown.error.status, str(unknown.error.message)) == (
        "out_of_scope", 403, "Cán bộ không thuộc các đơn vị mà hệ thống này được phép quyết định tra cứu.")


def test_it_refuses_an_officer_outside_the_clients_subtree(long_khanh_client, officer_bien_hoa):
    decision = _decide(long_khanh_client[0])
    assert (decision.reason, decision.error.status) == ("out_of_scope", 403)
    assert str(decision.error.message) == "Cán bộ không thuộc các đơn vị mà hệ thống này được phép quyết định tra cứu."
    assert LookupRecord.objects.get().reason == "out_of_scope"


def test_it_lets_the_portal_decide_only_for_the_officer_signed_in(officer_bien_hoa, officer_long_khanh):
    with audit_context():
        own = lookup_decide(actor=officer_bien_hoa, client=None, officer_username="cb.tanphong",
                            citizen_id=CITIZEN, dossier_code=DOSSIER, purpose=PURPOSE)
        other = lookup_decide(actor=officer_long_khanh, client=None, officer_username="cb.tanphong",
                              citizen_id=CITIZEN, dossier_code=DOSSIER, purpose=PURPOSE)
    assert (own.allowed, other.reason) == (True, "out_of_scope")
    assert LookupRecord.objects.count() == 2


@pytest.mark.parametrize(("changes", "reason", "message"), [
    ({"citizen_id": "272123456"}, "cmnd_not_accepted",
     "Không chấp nhận số chứng minh nhân dân (CMND) 9 chữ số: nhập số định danh cá nhân 12 chữ số của công dân."),
    ({"citizen_id": "003095001234"}, "citizen_id_malformed",
     "Ba chữ số đầu của số định danh cá nhân không phải là mã tỉnh, thành phố."),
    ({"dossier_code": ""}, "dossier_missing", "Nhập mã hồ sơ mà lượt tra cứu này phục vụ."),
    ({"dossier_code": "HS-2021-32"}, "dossier_malformed",
     "Nhập mã hồ sơ theo dạng <mã cơ quan>-<yymmdd>-<số thứ tự 4 chữ số>, ví dụ 000.00.32.H19-210708-0032."),
    ({"purpose": "  "}, "purpose_missing", "Nhập mục đích tra cứu."),
    ({"purpose": "x" * 301}, "purpose_malformed", "Mục đích tra cứu có tối đa 300 ký tự."),
])
def test_it_refuses_bad_input_with_a_reason_of_its_own(province, officer_bien_hoa, changes, reason, message):
    decision = _decide(province, **changes)
    assert (decision.reason, decision.error.status, str(decision.error.message)) == (reason, 400, message)
    record = LookupRecord.objects.get()
    assert (record.decision, record.reason, record.officer_id) == ("refuse", reason, officer_bien_hoa.pk)
    assert _counted() == 0


def test_it_refuses_a_purpose_with_a_direction_character(province, officer_bien_hoa):
    decision = _decide(province, purpose="Cấp bản sao\u202e")
    assert decision.reason == "purpose_malformed"
    assert LookupRecord.objects.get().purpose == ""  # never kept with the character


def test_it_consults_the_quotas_last_so_a_refusal_uses_none(province, officer_bien_hoa):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=1)
    _no_right(officer_bien_hoa)
    assert _decide(province).reason == "no_lookup_right"
    officer_bien_hoa.can_lookup = True
    officer_bien_hoa.save(update_fields=["can_lookup"])
    assert _decide(province).allowed is True  # the refused one counted nothing
    over = _decide(province)
    assert (over.reason, over.error.status, over.error.retry_after) == (
        "quota_officer_minute", 429, over.quota.retry_after)
    assert str(over.error.message).startswith("Cán bộ đã dùng hết số lượt tra cứu trong phút này. Vui lòng thử lại sau ")
    assert list(LookupRecord.objects.order_by("pk").values_list("reason", flat=True)) == [
        "no_lookup_right", "", "quota_officer_minute"]
    assert _counted() == 1


@pytest.mark.parametrize(("window", "reason"), [
    (QuotaWindow.OFFICER_DAY, "quota_officer_day"),
    (QuotaWindow.UNIT_MINUTE, "quota_unit_minute"),
    (QuotaWindow.UNIT_DAY, "quota_unit_day"),
])
def test_it_refuses_over_each_quota_with_its_reason(province, officer_bien_hoa, window, reason):
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=window, limit=1)
    assert _decide(province).allowed is True
    over = _decide(province)
    assert (over.reason, over.error.status) == (reason, 429)
    assert LookupRecord.objects.count() == 2


def test_it_decides_with_redis_down_and_records(province, officer_bien_hoa, settings, closed_port_url):
    settings.QUOTA_REDIS_URL = closed_port_url  # the rate limit's Redis: the quotas never needed it
    decision = _decide(province)
    assert (decision.allowed, decision.quota.backend) == (True, "database")
    assert LookupRecord.objects.get().decision == "allow"


def test_it_refuses_when_the_record_cannot_be_written_and_counts_nothing(province, officer_bien_hoa,
                                                                          monkeypatch):
    real_write = decisions._decision_write
    calls = []

    def failing_once(**arguments):
        calls.append("write")
        if len(calls) == 1:
            with connection.cursor() as cursor:  # the real statement runs and counts, then the record fails
                cursor.execute("SAVEPOINT doomed")
                real_write(**arguments)
                cursor.execute("ROLLBACK TO SAVEPOINT doomed")
            raise IntegrityError("the record table refused the row")
        return real_write(**arguments)

    monkeypatch.setattr(decisions, "_decision_write", failing_once)
    decision = _decide(province)
    assert (decision.allowed, decision.reason, decision.error.status) == (False, "record_unavailable", 503)
    assert calls == ["write"]
    assert list(LookupRecord.objects.values_list("decision", "reason")) == [("refuse", "record_unavailable")]
    assert _counted() == 0  # the count rolled back with the record that failed
    assert _decide(province).allowed is True and _counted() == 1


def test_the_database_and_python_name_the_same_binding_window(province, officer_bien_hoa):
    """The decision's statement records a quota refusal's reason itself: the same as the API answers."""
    for window in (QuotaWindow.OFFICER_MINUTE, QuotaWindow.UNIT_DAY, QuotaWindow.OFFICER_DAY):
        QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=window, limit=1)
    assert _decide(province).allowed is True
    over = _decide(province)
    assert over.quota.exceeded == ["officer_minute", "officer_day", "unit_day"]
    assert over.reason == LookupRecord.objects.get(pk=over.record_id).reason == "quota_officer_day"


def test_it_records_a_day_old_dossier_code_as_typed(province, officer_bien_hoa):
    yesterday = (timezone.localdate() - timedelta(days=1)).strftime("%y%m%d")
    assert _decide(province, dossier_code=f"000.00.31.H19-{yesterday}-0001").allowed is True


@pytest.mark.parametrize("field", ["officer_username", "citizen_id", "dossier_code", "purpose"])
def test_a_lone_surrogate_in_any_field_is_a_recorded_refusal(province, officer_bien_hoa, field):
    """Issue 22: a str Python holds but UTF-8 cannot write gave a 500 and no record."""
    values = {"officer_username": "cb.tanphong", "citizen_id": CITIZEN, "dossier_code": DOSSIER, "purpose": PURPOSE}
    values[field] = values[field] + "\ud800"
    decision = _decide(province, officer=values.pop("officer_username"), **values)
    assert (decision.allowed, decision.reason, decision.error.status) == (False, "malformed", 400)
    record = LookupRecord.objects.get()
    assert (record.pk, record.decision, record.reason) == (decision.record_id, "refuse", "malformed")
    kept = (record.officer_username, record.dossier_code, record.purpose, record.citizen_id_masked)
    assert all("\ud800" not in value for value in kept)
    assert _counted() == 0


@pytest.mark.parametrize(("typed", "masked"), [
    ("07509500123\x0b", ""), ("\x0c75095001234", ""), ("0750950012\x7f4", ""), ("07509500123", ""),
    ("0750950012٣4", ""), ("999095001234", "999*******34"),  # twelve digits, not a citizen ID: masked
])
def test_only_a_number_is_masked_into_the_record(province, officer_bien_hoa, typed, masked):
    """Issue 22: a control character kept in the mask broke every XLSX export of the records."""
    decision = _decide(province, citizen_id=typed)
    assert decision.reason == "citizen_id_malformed"
    assert LookupRecord.objects.get().citizen_id_masked == masked


def test_it_decides_at_the_time_given(province, officer_bien_hoa):
    """`now` pins the decision's clock: the quota windows, the record's time and "today"."""
    QuotaOverride.objects.create(unit=officer_bien_hoa.unit, window=QuotaWindow.OFFICER_MINUTE, limit=1)
    minute = timezone.now().replace(second=30, microsecond=0) - timedelta(minutes=5)
    first = _decide(province, now=minute)
    over = _decide(province, now=minute + timedelta(seconds=29))
    next_minute = _decide(province, now=minute + timedelta(seconds=30))
    assert [first.allowed, over.allowed, next_minute.allowed] == [True, False, True]
    assert (over.reason, over.error.retry_after) == ("quota_officer_minute", 1)
    assert list(LookupRecord.objects.order_by("pk").values_list("decided_at", flat=True)) == [
        minute, minute + timedelta(seconds=29), minute + timedelta(seconds=30)]


def test_it_judges_the_officer_by_the_policy_record_it_reads_with_the_account(province, officer_bien_hoa):
    """The decision reads the policy in the officer's statement, not from the cache: a stricter lockout
    threshold in the record applies at once."""
    from policy.models import PasswordPolicy
    from policy.selectors import policy_cache_clear

    policy = PasswordPolicy.from_defaults()
    policy.lockout_threshold = 3
    policy.save()
    policy_cache_clear()
    AccessAttempt.objects.create(username=officer_bien_hoa.username, ip_address="10.0.0.1", user_agent="ua",
                                 http_accept="*/*", path_info="/accounts/login/", attempt_time=timezone.now(),
                                 failures_since_start=3, get_data="", post_data="")
    assert _decide(province).reason == "officer_locked"
    PasswordPolicy.objects.filter(pk=policy.pk).update(lockout_threshold=4)
    assert _decide(province).allowed is True


@pytest.mark.parametrize(("held", "reason"), [
    ("account", "contained"),
    ("tan_phong", "contained"),  # the officer's own ward
    ("bien_hoa", "contained"),  # the city above it
    ("long_khanh", None),  # another city: not the officer's
    ("xuan_an", None),  # a ward whose path is not a prefix of the officer's
])
def test_it_refuses_an_officer_held_by_a_containment_of_the_account_or_a_unit_above(
        province, officer_bien_hoa, units, held, reason):
    """The containment is read with the officer (lookups_decision_facts), as accounts'
    account_contained rules it: the account, its unit or a unit above. A decision stays two
    statements: the officer with its facts, then the write (the record, refused or allowed) — in the
    test's transaction each within a savepoint, which is not counted."""
    holder = officer_bien_hoa if held == "account" else units[held]
    type(holder).objects.filter(pk=holder.pk).update(contained_at=timezone.now())
    with CaptureQueriesContext(connection) as sent:
        decision = _decide(province)
    assert len([query for query in sent.captured_queries if "SAVEPOINT" not in query["sql"]]) == 2
    assert decision.reason == (reason or "")
    assert decision.allowed is (reason is None)
    if reason:
        assert str(decision.error.message) == "Tài khoản của cán bộ này đang bị khoanh vùng do sự cố an toàn thông tin."
    record = LookupRecord.objects.get()
    assert (record.decision, record.reason) == (("refuse", reason) if reason else ("allow", ""))


def test_the_officers_statement_loads_what_the_orm_would(province, officer_bien_hoa):
    """officer_for_decision builds the account, its unit and the policy from one JSON text (migration
    0012): every column, each converted as the ORM converts it, save the password hash, which it never
    reads. A field type it cannot convert fails at import, not at a decision."""
    from accounts.models import Unit, User
    from lookups.selectors import _converter, officer_for_decision
    from policy.models import PasswordPolicy
    from policy.selectors import current_policy

    for model in (User, Unit, PasswordPolicy):
        for field in model._meta.concrete_fields:
            _converter(field)  # raises TypeError for a type without a conversion
    policy = PasswordPolicy.from_defaults()
    policy.save()
    now = timezone.now()
    User.objects.filter(pk=officer_bien_hoa.pk).update(
        last_login=now - timedelta(days=3, microseconds=12340), password_changed_at=now - timedelta(days=40))
    PasswordPolicy.objects.filter(pk=policy.pk).update(lockout_threshold=7)  # not what any cache holds
    with audit_context(ip_address="10.20.30.40", request_id="req-json"):
        found = officer_for_decision(officer_bien_hoa.username, now=now, citizen_id_hash=citizen_id_hash(CITIZEN),
                                     dossier_code=DOSSIER)
        remembered = current_policy()  # what the decision read, kept for the rest of the request
    expected = User.objects.select_related("unit").get(pk=officer_bien_hoa.pk)
    fields = [field.attname for field in User._meta.concrete_fields if field.name != "password"]
    assert {name: getattr(found.officer, name) for name in fields} == {name: getattr(expected, name) for name in fields}
    assert "password" in found.officer.get_deferred_fields()
    unit_fields = [field.attname for field in Unit._meta.concrete_fields]
    assert ({name: getattr(found.officer.unit, name) for name in unit_fields}
            == {name: getattr(expected.unit, name) for name in unit_fields})
    policy_fields = [field.attname for field in PasswordPolicy._meta.concrete_fields]
    stored = PasswordPolicy.objects.get(pk=policy.pk)
    assert remembered.lockout_threshold == 7
    assert {name: getattr(remembered, name) for name in policy_fields} == {
        name: getattr(stored, name) for name in policy_fields}


def test_the_facts_count_the_allowed_records_of_the_window_up_to_the_decision(units, officer_bien_hoa):
    """The dossier's and the citizen's records counted by the officer's statement (migration 0013): those
    allowed in [now − the window, now], across the month's partition and the one before; not one older,
    not one refused, not one decided after `now` (a clock ahead: the scans stop at now, which keeps
    them out of the months ahead's partitions)."""
    from audit.partitions import month_start
    from lookups.choices import Decision
    from lookups.selectors import officer_for_decision
    from lookups.validation import citizen_id_masked
    from tests.factories import UserFactory

    now = month_start(timezone.now().date().replace(day=1)) + timedelta(hours=3)  # the window starts last month
    others = [UserFactory(unit=units["tan_phong"], can_lookup=True) for _ in range(4)]
    citizens = [f"0750950{n:05d}" for n in range(6)]

    def record(officer, citizen, at, decision=Decision.ALLOW):
        LookupRecord.objects.create(
            decided_at=at, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
            unit_code_then=officer.unit.code, dossier_code=DOSSIER, purpose="Thử", decision=decision,
            citizen_id_hash=citizen_id_hash(citizen), citizen_id_masked=citizen_id_masked(citizen))

    record(others[0], citizens[0], now - timedelta(hours=23))  # last month's partition: counted
    record(others[1], citizens[0], now)  # at the decision's own instant: counted
    record(others[2], citizens[1], now - timedelta(hours=24, seconds=1))  # before the window
    record(others[2], citizens[2], now, decision=Decision.REFUSE)  # refused
    record(others[3], citizens[3], now + timedelta(seconds=1))  # after the decision
    record(others[3], citizens[0], now + timedelta(seconds=1))

    def facts(citizen):
        return officer_for_decision(officer_bien_hoa.username, now=now, citizen_id_hash=citizen_id_hash(citizen),
                                    dossier_code=DOSSIER).facts

    about_a_known_citizen = facts(citizens[0])
    assert about_a_known_citizen.dossier_citizens == 1 and not about_a_known_citizen.citizen_new_to_dossier
    assert about_a_known_citizen.citizen_officers == 3 and about_a_known_citizen.officer_new_to_citizen
    about_a_new_citizen = facts(citizens[5])  # counted with the lookup about to be recorded
    assert about_a_new_citizen.dossier_citizens == 2 and about_a_new_citizen.citizen_new_to_dossier
    assert about_a_new_citizen.citizen_officers == 1
