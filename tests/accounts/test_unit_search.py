"""The unit picker's search (accounts:unit_search): within the reader's scope, accent-insensitive, at
most 20 units, bad input refused with a 400 — and the forms still check the chosen id against scope."""
import pytest
from django.urls import reverse

from accounts.choices import UnitState
from accounts.models import User
from accounts.services import unit_merge
from tests.factories import UnitFactory
from tests.helpers import UNIT_CHANGE_BASIS, login

SEARCH = reverse("accounts:unit_search")


def _names(response):
    assert response.status_code == 200, response.content
    return [unit["name"] for unit in response.json()["results"]]


def test_a_bien_hoa_leader_finds_only_units_of_bien_hoa(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    assert _names(client.get(SEARCH, {"q": "ubnd"})) == ["UBND thành phố Biên Hòa", "UBND phường Tân Phong"]
    assert _names(client.get(SEARCH, {"q": "long khanh"})) == []
    assert _names(client.get(SEARCH, {"q": "xuan an"})) == []
    assert _names(client.get(SEARCH, {"q": "000.01.32"})) == []  # Xuân An's code
    assert _names(client.get(SEARCH, {"q": ""})) == ["UBND thành phố Biên Hòa", "UBND phường Tân Phong"]


def test_an_it_admin_finds_every_unit(client, it_admin, units):
    login(client, it_admin)
    assert _names(client.get(SEARCH, {"q": "UBND THANH PHO"})) == ["UBND thành phố Biên Hòa",
                                                                  "UBND thành phố Long Khánh"]


@pytest.mark.parametrize(("typed", "found"), [
    ("bien hoa", ["UBND thành phố Biên Hòa"]),
    ("Biên Hòa", ["UBND thành phố Biên Hòa"]),
    ("BIEN HOA", ["UBND thành phố Biên Hòa"]),
    ("Bie\u0302n Ho\u0300a", ["UBND thành phố Biên Hòa"]),  # typed decomposed (NFD), as some keyboards do
    ("tan phong", ["UBND phường Tân Phong"]),
    ("dong nai", ["UBND tỉnh Đồng Nai"]),
    ("000.01.31.h19", ["UBND phường Tân Phong"]),
    ("  tan   ", ["UBND phường Tân Phong"]),
])
def test_it_matches_without_accents_by_name_or_code(client, it_admin, units, typed, found):
    login(client, it_admin)
    assert _names(client.get(SEARCH, {"q": typed})) == found


def test_it_answers_at_most_20_units_with_their_parent_in_one_query(client, it_admin, units,
                                                                    django_assert_num_queries):
    from accounts.selectors import unit_search

    for n in range(25):
        UnitFactory(name=f"UBND xã Thử {n:02d}", parent=units["long_khanh"])
    with django_assert_num_queries(1):
        assert len([unit.parent.name for unit in unit_search(it_admin, "xa thu")]) == 20
    login(client, it_admin)
    response = client.get(SEARCH, {"q": "xa thu"})
    results = response.json()["results"]
    assert len(results) == 20
    assert results[0]["parent"] == "UBND thành phố Long Khánh"
    assert set(results[0]) == {"id", "name", "code", "label", "parent", "active"}


def test_it_leaves_out_merged_units_when_the_form_needs_an_active_one(client, it_admin, units):
    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    login(client, it_admin)
    assert _names(client.get(SEARCH, {"q": "xuan an", "active": "1"})) == []
    assert _names(client.get(SEARCH, {"q": "xuan an"})) == ["UBND phường Xuân An"]


def test_it_leaves_out_the_subtree_of_the_unit_being_moved(client, it_admin, units):
    login(client, it_admin)
    assert _names(client.get(SEARCH, {"q": "bien hoa", "exclude": units["bien_hoa"].pk})) == []
    assert _names(client.get(SEARCH, {"q": "tan phong", "exclude": units["bien_hoa"].pk})) == []
    assert _names(client.get(SEARCH, {"q": "tan phong", "exclude": units["long_khanh"].pk})) == [
        "UBND phường Tân Phong"]


@pytest.mark.parametrize("query", [
    {"q": "a" * 500}, {"q": "bien\x00hoa"}, {"q": "bien\u202ehoa"}, {"q": "bien\nhoa"},
    {"q": "x", "exclude": "abc"}, {"q": "x", "exclude": "99999999999999999999999"}, {"q": "x", "exclude": "-1"},
], ids=["500-chars", "nul", "direction-mark", "newline", "exclude-text", "exclude-huge", "exclude-negative"])
def test_it_refuses_bad_input_with_a_400(client, it_admin, units, query):
    login(client, it_admin)
    response = client.get(SEARCH, query)
    assert response.status_code == 400
    body = response.json()
    assert body["results"] == [] and body["error"] != ""


def test_it_says_why_a_long_query_is_refused(client, it_admin, units):
    login(client, it_admin)
    assert client.get(SEARCH, {"q": "a" * 500}).json()["error"] == "Hãy nhập tối đa 100 ký tự để tìm đơn vị."


def test_an_officer_and_an_anonymous_visitor_cannot_search(client, officer_bien_hoa, units):
    assert client.get(SEARCH, {"q": "bien"}).status_code == 302
    login(client, officer_bien_hoa)
    assert client.get(SEARCH, {"q": "bien"}).status_code == 403


def test_a_guessed_unit_of_another_district_is_a_form_error(client, leader_bien_hoa, units):
    """The picker is a convenience: the server checks the id. A Biên Hòa leader who types Xuân An's id
    into the account filter gets no Long Khánh account."""
    User.objects.create(username="cb.xuanan", full_name="Cán bộ Xuân An", unit=units["xuan_an"])
    login(client, leader_bien_hoa)
    response = client.get(reverse("accounts:list"), {"unit": units["xuan_an"].pk})
    assert list(response.context["form"].errors) == ["unit"]
    assert [account.username for account in response.context["page"]] == [leader_bien_hoa.username]


def test_a_guessed_merged_unit_is_a_form_error_in_the_account_form(admin_client, it_admin, units):
    unit_merge(actor=it_admin, unit=units["xuan_an"], into=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    response = admin_client.post(reverse("accounts:create"), {
        "username": "cb.moi", "full_name": "Cán Bộ Mới", "unit": units["xuan_an"].pk, "role": "officer"})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["unit"]
    assert not User.objects.filter(username="cb.moi").exists()
    assert units["xuan_an"].__class__.objects.get(pk=units["xuan_an"].pk).state == UnitState.MERGED


@pytest.mark.parametrize("url", ["accounts:create", "accounts:list", "accounts:unit_create"])
def test_every_unit_field_is_a_picker_that_works_without_javascript(admin_client, units, url):
    page = admin_client.get(reverse(url)).content.decode()
    assert page.count("data-unit-picker") == 1
    assert page.count('src="/static/js/unit-picker.js"') == 1
    assert page.count(f'<option value="{units["tan_phong"].pk}"') == 1  # the plain <select> is still there


@pytest.mark.parametrize("url", ["accounts:unit_move", "accounts:unit_merge"])
def test_the_move_and_merge_pickers_search_active_units_outside_the_subtree(admin_client, units, url):
    page = admin_client.get(reverse(url, args=[units["bien_hoa"].pk])).content.decode()
    assert page.count(f'data-search-url="{SEARCH}?active=1&amp;exclude={units["bien_hoa"].pk}"') == 1
