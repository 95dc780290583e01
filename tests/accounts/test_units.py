"""The unit tree: create, rename, move, merge, retire; history keeps pointing at the unit as it was."""
import pytest
from django.urls import reverse

from accounts.choices import UnitState
from accounts.models import Unit, unit_path_below
from accounts.services import unit_create, unit_merge, unit_move, unit_retire
from audit.choices import EventKind
from audit.models import SecurityEvent
from portal.errors import DomainError
from tests.factories import UnitFactory, UserFactory
from tests.helpers import UNIT_CHANGE_BASIS, UNIT_CHANGE_BASIS_FORM


def test_it_creates_a_unit_under_a_parent(admin_client, units):
    response = admin_client.post(reverse("accounts:unit_create"), {
        "code": "000.02.31.H19", "name": "UBND phường Trảng Dài", "kind": "ward", "parent": units["bien_hoa"].pk})
    assert response.status_code == 302
    unit = Unit.objects.get(code="000.02.31.H19")
    assert unit.path == unit_path_below(units["bien_hoa"].path, unit.pk)
    assert SecurityEvent.objects.filter(kind=EventKind.UNIT_CREATED, unit_code="000.02.31.H19").count() == 1


@pytest.mark.parametrize("code", ["31.H19", "000.00.31.h1", "000-00-31-H19", "000.00.31.H19"])
def test_it_refuses_a_malformed_or_taken_agency_code(admin_client, units, code):
    before = Unit.objects.count()
    response = admin_client.post(reverse("accounts:unit_create"), {
        "code": code, "name": "X", "kind": "ward", "parent": units["bien_hoa"].pk})
    assert response.status_code == 200 and "code" in response.context["form"].errors
    assert Unit.objects.count() == before


def test_it_renames_and_keeps_the_old_name_in_the_record(admin_client, units):
    admin_client.post(reverse("accounts:unit_rename", args=[units["tan_phong"].pk]), {"name": "UBND phường Tân Phong mới", **UNIT_CHANGE_BASIS_FORM})
    event = SecurityEvent.objects.get(kind=EventKind.UNIT_RENAMED)
    assert event.details == {"old": {"name": "UBND phường Tân Phong"}, "new": {"name": "UBND phường Tân Phong mới"},
                             "basis_number": "1234/QĐ-UBND", "basis_date": "2025-06-12", "effective_date": "2025-07-01"}


def test_it_moves_a_subtree_under_the_new_parent(db, it_admin, units):
    child = UnitFactory(parent=units["xuan_an"])
    unit_move(actor=it_admin, unit=units["xuan_an"], new_parent=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    child.refresh_from_db()
    assert child.path.startswith(units["bien_hoa"].path)


def test_it_refuses_to_move_a_unit_below_itself(db, it_admin, units):
    with pytest.raises(DomainError):
        unit_move(actor=it_admin, unit=units["bien_hoa"], new_parent=units["tan_phong"], **UNIT_CHANGE_BASIS)


def test_it_merges_accounts_and_sub_units_and_keeps_the_merged_unit(db, it_admin, units):
    officer = UserFactory(unit=units["long_khanh"])
    ward_officer = UserFactory(unit=units["xuan_an"])
    unit_merge(actor=it_admin, unit=units["long_khanh"], into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    merged = Unit.objects.get(pk=units["long_khanh"].pk)
    assert merged.state == UnitState.MERGED and merged.merged_into == units["bien_hoa"]
    officer.refresh_from_db()
    assert officer.unit == units["bien_hoa"]
    units["xuan_an"].refresh_from_db()
    assert units["xuan_an"].parent == units["bien_hoa"]
    assert units["xuan_an"].path.startswith(units["bien_hoa"].path)
    ward_officer.refresh_from_db()
    assert ward_officer.unit == units["xuan_an"]
    event = SecurityEvent.objects.get(kind=EventKind.UNIT_MERGED)
    assert event.unit_id == merged.pk and event.unit_code == "000.00.32.H19"
    assert officer.username in event.details["accounts_moved"]


def test_it_keeps_events_pointing_at_the_unit_as_it_was(db, it_admin, units):
    officer = UserFactory(unit=units["long_khanh"])
    from accounts.services import account_disable

    account_disable(actor=it_admin, account=officer, reason="Nghỉ việc")
    unit_merge(actor=it_admin, unit=units["long_khanh"], into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    event = SecurityEvent.objects.get(kind=EventKind.ACCOUNT_DISABLED)
    assert event.unit_code == "000.00.32.H19"


def test_it_refuses_accounts_in_a_merged_unit(db, it_admin, units):
    from accounts.services import account_create

    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["long_khanh"], **UNIT_CHANGE_BASIS)
    units["xuan_an"].refresh_from_db()
    with pytest.raises(DomainError):
        account_create(actor=it_admin, username="cb.x", full_name="X", unit=units["xuan_an"], role="officer")


def test_it_retires_only_an_empty_unit(db, it_admin, units):
    UserFactory(unit=units["tan_phong"])
    with pytest.raises(DomainError):
        unit_retire(actor=it_admin, unit=units["tan_phong"], **UNIT_CHANGE_BASIS)
    empty = unit_create(actor=it_admin, code="000.09.31.H19", name="Tổ công tác", kind="ward", parent=units["bien_hoa"])
    unit_retire(actor=it_admin, unit=empty, **UNIT_CHANGE_BASIS)
    empty.refresh_from_db()
    assert empty.state == UnitState.RETIRED


def test_it_shows_the_tree_in_order(admin_client, units):
    page = admin_client.get(reverse("accounts:unit_list")).content.decode()
    assert page.index("UBND thành phố Biên Hòa") < page.index("UBND phường Tân Phong") < page.index(
        "UBND thành phố Long Khánh")


def test_it_demotes_a_merged_units_leader_instead_of_widening_their_scope(db, it_admin, units):
    from accounts.scope import accounts_visible_to

    leader = UserFactory(unit=units["long_khanh"], role="unit_leader")
    unit_merge(actor=it_admin, unit=units["long_khanh"], into=units["province"], **UNIT_CHANGE_BASIS)
    leader.refresh_from_db()
    assert leader.unit == units["province"] and leader.role == "officer"
    assert list(accounts_visible_to(leader)) == [leader]
    role_event = SecurityEvent.objects.get(kind=EventKind.ROLE_CHANGED, target=leader)
    assert role_event.details["new"] == {"role": "officer"} and role_event.details["reason"] == "unit_merged"
    unit_event = SecurityEvent.objects.get(kind=EventKind.UNIT_CHANGED, target=leader)
    assert unit_event.details["old"] == {"unit": "000.00.32.H19"}


def test_it_refuses_an_account_in_a_unit_merged_after_the_form_was_loaded(db, it_admin, units):
    from accounts.services import account_create

    stale = Unit.objects.get(pk=units["xuan_an"].pk)  # loaded while still active
    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["long_khanh"], **UNIT_CHANGE_BASIS)
    with pytest.raises(DomainError):
        account_create(actor=it_admin, username="cb.orphan", full_name="X", unit=stale, role="officer")


@pytest.mark.parametrize("action", ["rename", "move"])
def test_it_refuses_to_change_a_merged_unit(db, it_admin, units, action):
    from accounts.services import unit_rename

    stale = Unit.objects.get(pk=units["xuan_an"].pk)
    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["long_khanh"], **UNIT_CHANGE_BASIS)
    with pytest.raises(DomainError):
        if action == "rename":
            unit_rename(actor=it_admin, unit=stale, name="Tên mới", **UNIT_CHANGE_BASIS)
        else:
            unit_move(actor=it_admin, unit=stale, new_parent=units["bien_hoa"], **UNIT_CHANGE_BASIS)


def test_it_moves_exactly_the_subtree(db, it_admin, units):
    from accounts.models import unit_path_below

    child = UnitFactory(parent=units["xuan_an"])
    untouched = {unit.pk: unit.path for unit in Unit.objects.exclude(path__startswith=units["xuan_an"].path)}
    unit_move(actor=it_admin, unit=units["xuan_an"], new_parent=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    moved = Unit.objects.get(pk=units["xuan_an"].pk)
    assert moved.path == unit_path_below(units["bien_hoa"].path, moved.pk)
    assert Unit.objects.get(pk=child.pk).path == unit_path_below(moved.path, child.pk)
    for pk, path in untouched.items():
        assert Unit.objects.get(pk=pk).path == path


@pytest.mark.parametrize("url_name", ["accounts:unit_move", "accounts:unit_merge"])
def test_it_refuses_a_target_inside_the_units_own_subtree(admin_client, units, url_name):
    before = list(Unit.objects.order_by("pk").values_list("pk", "parent_id", "path", "state"))
    response = admin_client.post(reverse(url_name, args=[units["bien_hoa"].pk]),
                                 {"target": units["tan_phong"].pk, **UNIT_CHANGE_BASIS_FORM})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["target"]
    assert list(Unit.objects.order_by("pk").values_list("pk", "parent_id", "path", "state")) == before


def test_it_explains_why_a_unit_with_accounts_cannot_retire(admin_client, units, officer_bien_hoa):
    response = admin_client.post(reverse("accounts:unit_retire", args=[units["tan_phong"].pk]), UNIT_CHANGE_BASIS_FORM)
    assert "Hãy vô hiệu hóa hoặc chuyển" in response.content.decode()
    units["tan_phong"].refresh_from_db()
    assert units["tan_phong"].state == UnitState.ACTIVE


# ----- legal basis ---------------------------------------------------------------------------------

def _today():
    from django.utils import timezone

    return timezone.localdate()


@pytest.mark.parametrize("change", ["rename", "move", "merge", "retire"])
def test_it_keeps_the_legal_basis_on_the_unit_and_in_the_event(db, it_admin, units, change):
    from datetime import date

    from accounts.services import unit_rename

    target = units["tan_phong"]
    if change == "rename":
        unit_rename(actor=it_admin, unit=target, name="UBND phường Tân Phong mới", **UNIT_CHANGE_BASIS)
        kind = EventKind.UNIT_RENAMED
    elif change == "move":
        unit_move(actor=it_admin, unit=target, new_parent=units["long_khanh"], **UNIT_CHANGE_BASIS)
        kind = EventKind.UNIT_MOVED
    elif change == "merge":
        unit_merge(actor=it_admin, unit=target, into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
        kind = EventKind.UNIT_MERGED
    else:
        unit_retire(actor=it_admin, unit=target, **UNIT_CHANGE_BASIS)
        kind = EventKind.UNIT_RETIRED
    target.refresh_from_db()
    assert (target.change_basis, target.change_basis_date, target.change_effective_date) == (
        "1234/QĐ-UBND", date(2025, 6, 12), date(2025, 7, 1))
    event = SecurityEvent.objects.get(kind=kind)
    assert {key: event.details[key] for key in ("basis_number", "basis_date", "effective_date")} == {
        "basis_number": "1234/QĐ-UBND", "basis_date": "2025-06-12", "effective_date": "2025-07-01"}


@pytest.mark.parametrize(("basis", "field", "code"), [
    ({"basis_number": ""}, "basis_number", "basis_missing"),
    ({"basis_number": "QĐ-UBND"}, "basis_number", "basis_invalid"),
    ({"basis_number": "1234/QĐ\n-UBND"}, "basis_number", "control_character"),
    ({"basis_number": "1234/QĐ\u202e-UBND"}, "basis_number", "control_character"),
    ({"basis_date": None}, "basis_date", "basis_missing"),
    ({"basis_date": "tomorrow"}, "basis_date", "basis_date_future"),
    ({"effective_date": None}, "effective_date", "basis_missing"),
    ({"effective_date": "before"}, "effective_date", "effective_before_decision"),
], ids=["no-number", "no-number-part", "newline", "direction-mark", "no-date", "future-date", "no-effective-date",
        "effective-before-decision"])
@pytest.mark.parametrize("change", ["rename", "move", "merge", "retire"])
def test_the_services_refuse_a_change_without_a_valid_legal_basis(db, it_admin, units, change, basis, field, code):
    from datetime import timedelta

    from accounts.services import unit_rename
    from portal.errors import PolicyViolation

    values = {**UNIT_CHANGE_BASIS, **basis}
    if values["basis_date"] == "tomorrow":
        values["basis_date"] = _today() + timedelta(days=1)
        values["effective_date"] = values["basis_date"]
    if values["effective_date"] == "before":
        values["effective_date"] = values["basis_date"] - timedelta(days=1)
    target = units["tan_phong"]
    before = list(Unit.objects.order_by("pk").values_list("pk", "name", "parent_id", "path", "state", "change_basis"))
    calls = {
        "rename": lambda: unit_rename(actor=it_admin, unit=target, name="Tên mới", **values),
        "move": lambda: unit_move(actor=it_admin, unit=target, new_parent=units["long_khanh"], **values),
        "merge": lambda: unit_merge(actor=it_admin, unit=target, into=units["bien_hoa"], **values),
        "retire": lambda: unit_retire(actor=it_admin, unit=target, **values),
    }
    with pytest.raises(PolicyViolation) as refusal:
        calls[change]()
    assert (refusal.value.field, refusal.value.code) == (field, code)
    assert list(Unit.objects.order_by("pk").values_list(
        "pk", "name", "parent_id", "path", "state", "change_basis")) == before
    assert SecurityEvent.objects.count() == 0


def test_it_writes_the_decision_symbol_in_capitals(db, it_admin, units):
    from accounts.services import unit_rename

    unit_rename(actor=it_admin, unit=units["tan_phong"], name="Tên mới",
                **{**UNIT_CHANGE_BASIS, "basis_number": " 12/2025/nq-hđnd "})
    units["tan_phong"].refresh_from_db()
    assert units["tan_phong"].change_basis == "12/2025/NQ-HĐND"


@pytest.mark.parametrize(("values", "errors"), [
    ({"basis_number": "", "basis_date": "", "effective_date": ""},
     {"basis_number": ["Hãy nhập số, ký hiệu của quyết định."], "basis_date": ["Hãy nhập ngày ban hành quyết định."],
      "effective_date": ["Hãy nhập ngày có hiệu lực."]}),
    ({"basis_number": "số 1234", "basis_date": "2025/06/12", "effective_date": "31/02/2025"},
     {"basis_number": ["Hãy ghi số, ký hiệu như trên quyết định, ví dụ 1234/QĐ-UBND hoặc 12/2025/NQ-HĐND."],
      "basis_date": ["Hãy ghi ngày theo dạng dd/mm/yyyy, ví dụ 30/06/2025."],
      "effective_date": ["Hãy ghi ngày theo dạng dd/mm/yyyy, ví dụ 01/07/2025."]}),
    ({"basis_number": "1234/QĐ-UBND", "basis_date": "01/07/2025", "effective_date": "30/06/2025"},
     {"effective_date": ["Ngày có hiệu lực không được trước ngày ban hành quyết định."]}),
    ({"basis_number": "1234/QĐ-UBND", "basis_date": "01/01/2999", "effective_date": "01/01/2999"},
     {"basis_date": ["Ngày ban hành quyết định không được sau ngày hôm nay."]}),
], ids=["missing", "malformed", "effective-before-decision", "future"])
@pytest.mark.parametrize("url_name", ["accounts:unit_rename", "accounts:unit_move", "accounts:unit_merge",
                                      "accounts:unit_retire"])
def test_the_forms_say_what_is_wrong_with_the_legal_basis(admin_client, units, url_name, values, errors):
    before = list(Unit.objects.order_by("pk").values_list("pk", "name", "parent_id", "path", "state"))
    response = admin_client.post(reverse(url_name, args=[units["tan_phong"].pk]),
                                 {"name": "Tên mới", "target": units["long_khanh"].pk, **values})
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert list(Unit.objects.order_by("pk").values_list("pk", "name", "parent_id", "path", "state")) == before
    assert SecurityEvent.objects.exclude(kind=EventKind.LOGIN_SUCCESS).count() == 0


def test_the_unit_list_shows_the_legal_basis_of_a_merged_unit(admin_client, it_admin, units):
    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    page = admin_client.get(reverse("accounts:unit_list")).content.decode()
    assert page.count("Theo quyết định 1234/QĐ-UBND ngày 12/06/2025, hiệu lực từ 01/07/2025.") == 1


def test_the_audit_log_names_the_legal_basis(client, inspector, it_admin, units):
    from tests.helpers import login

    unit_retire(actor=it_admin, unit=UnitFactory(parent=units["bien_hoa"]), **UNIT_CHANGE_BASIS)
    page = login(client, inspector).get(reverse("audit:events")).content.decode()
    for label in ("Số, ký hiệu quyết định", "Ngày ban hành quyết định", "Ngày có hiệu lực"):
        assert page.count(label) == 1, label


def test_the_unit_list_shows_each_units_place_for_a_phone(admin_client, units):
    response = admin_client.get(reverse("accounts:unit_list"))
    rows = {unit.code: unit.ancestor_names for unit in response.context["units"]}
    assert rows["000.01.31.H19"] == ["UBND tỉnh Đồng Nai", "UBND thành phố Biên Hòa"]
    assert rows["000.00.00.H19"] == []
    assert response.content.decode().count(
        '<small class="crumbs">UBND tỉnh Đồng Nai › UBND thành phố Biên Hòa › </small>UBND phường Tân Phong') == 1


def test_a_leaders_unit_list_starts_the_breadcrumb_at_the_leaders_unit(client, leader_bien_hoa, units,
                                                                       django_assert_num_queries):
    from accounts.selectors import unit_tree_rows

    with django_assert_num_queries(1):
        rows = {unit.code: unit.ancestor_names for unit in unit_tree_rows(leader_bien_hoa)}
    assert rows == {"000.00.31.H19": [], "000.01.31.H19": ["UBND thành phố Biên Hòa"]}
