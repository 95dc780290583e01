"""One selector decides scope: a leader sees their subtree, an officer only themself; objects outside
scope answer 404 (also by guessing ids), roles that may not act get 403."""
import pytest
from django.urls import reverse

from accounts.models import User
from accounts.scope import accounts_visible_to, units_visible_to
from tests.factories import UserFactory
from tests.helpers import login


def test_it_shows_a_leader_their_subtree_only(db, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    visible = set(accounts_visible_to(leader_bien_hoa))
    assert officer_bien_hoa in visible and leader_bien_hoa in visible
    assert officer_long_khanh not in visible
    codes = set(units_visible_to(leader_bien_hoa).values_list("code", flat=True))
    assert codes == {"000.00.31.H19", "000.01.31.H19"}


def test_it_hides_other_district_accounts_from_the_list(client, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    login(client, leader_bien_hoa)
    page = client.get(reverse("accounts:list")).content.decode()
    assert officer_bien_hoa.username in page
    assert officer_long_khanh.username not in page


def test_it_hides_other_district_accounts_from_search(client, leader_bien_hoa, officer_long_khanh):
    login(client, leader_bien_hoa)
    response = client.get(reverse("accounts:list"), {"q": officer_long_khanh.username})
    assert list(response.context["page"]) == []


def test_it_answers_404_for_a_guessed_account_id(client, leader_bien_hoa, officer_long_khanh):
    login(client, leader_bien_hoa)
    assert client.get(reverse("accounts:detail", args=[officer_long_khanh.pk])).status_code == 404
    assert client.get(reverse("accounts:detail", args=[999999])).status_code == 404


def test_it_ignores_a_unit_filter_outside_scope(client, leader_bien_hoa, units, officer_long_khanh):
    login(client, leader_bien_hoa)
    response = client.get(reverse("accounts:list"), {"unit": units["long_khanh"].pk})
    assert officer_long_khanh not in list(response.context["page"])


def test_it_hides_handover_records_of_other_districts(client, leader_bien_hoa, it_admin, units):
    from accounts.services import account_create

    _, _, record = account_create(actor=it_admin, username="cb.xuanan2", full_name="Cán Bộ", unit=units["xuan_an"],
                                  role="officer")
    login(client, leader_bien_hoa)
    assert client.get(reverse("accounts:handover_record", args=[record.pk])).status_code == 404


@pytest.mark.parametrize("url_name", ["accounts:list", "accounts:unit_list", "accounts:create", "audit:events",
                                      "policy:edit", "accounts:unit_create"])
def test_it_refuses_admin_pages_to_an_officer(client, officer_bien_hoa, url_name):
    login(client, officer_bien_hoa)
    assert client.get(reverse(url_name)).status_code == 403


def test_it_refuses_an_officer_even_their_own_detail_page(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    assert client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).status_code == 403


@pytest.mark.parametrize("url_name,method", [
    ("accounts:reset", "post"), ("accounts:disable", "post"), ("accounts:enable", "post"),
    ("accounts:unlock", "post"), ("accounts:force_change", "post"), ("accounts:edit", "get"),
])
def test_it_lets_an_inspector_read_but_not_change(client, inspector, officer_bien_hoa, url_name, method):
    login(client, inspector)
    assert client.get(reverse("accounts:detail", args=[officer_bien_hoa.pk])).status_code == 200
    before = User.objects.values().get(pk=officer_bien_hoa.pk)
    response = getattr(client, method)(reverse(url_name, args=[officer_bien_hoa.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert User.objects.values().get(pk=officer_bien_hoa.pk) == before


def test_it_refuses_an_inspector_the_policy_change(client, inspector):
    login(client, inspector)
    assert client.get(reverse("policy:edit")).status_code == 200
    assert client.post(reverse("policy:edit"), {"min_length": 20}).status_code == 403


def test_it_refuses_unit_changes_to_a_leader(client, leader_bien_hoa, units):
    login(client, leader_bien_hoa)
    response = client.post(reverse("accounts:unit_rename", args=[units["tan_phong"].pk]), {"name": "X"})
    assert response.status_code == 403
    units["tan_phong"].refresh_from_db()
    assert units["tan_phong"].name == "UBND phường Tân Phong"


def test_it_sends_anonymous_visitors_to_the_login(client, units):
    response = client.get(reverse("accounts:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_moves_scope_with_the_tree(db, leader_bien_hoa, units, it_admin):
    """A ward moved from Long Khánh to Biên Hòa enters the Biên Hòa leader's scope at once."""
    from accounts.services import unit_move
    from tests.helpers import UNIT_CHANGE_BASIS

    officer = UserFactory(unit=units["xuan_an"])
    assert officer not in accounts_visible_to(leader_bien_hoa)
    unit_move(actor=it_admin, unit=units["xuan_an"], new_parent=units["bien_hoa"], **UNIT_CHANGE_BASIS)
    assert officer in accounts_visible_to(leader_bien_hoa)
