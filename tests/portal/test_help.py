"""The help pages: a short guide per role (the reader's first) and a glossary of the rules, linked
from the header of every page."""
import pytest
from django.urls import reverse

from policy.compliance import ComplianceReason
from tests.helpers import login

pytestmark = pytest.mark.django_db


def test_each_role_gets_its_own_guide_first_and_the_glossary(client, it_admin, inspector, leader_bien_hoa,
                                                             officer_bien_hoa):
    firsts = {}
    for user in (it_admin, inspector, leader_bien_hoa, officer_bien_hoa):
        response = login(client, user).get(reverse("help"))
        assert response.status_code == 200
        firsts[user.username] = response.context["roles"][0][0]
        body = response.content.decode()
        assert body.count('<tr id="rule-') == len(ComplianceReason.values)
        assert "Mật khẩu được đổi trong thời hạn sử dụng tối đa" in body
    assert firsts == {"qt.admin": "it_admin", "tt.inspector": "inspector", "ld.bienhoa": "unit_leader",
                      "cb.tanphong": "officer"}


def test_every_page_links_to_the_help_of_the_readers_role(client, leader_bien_hoa):
    body = login(client, leader_bien_hoa).get(reverse("accounts:turnover_list")).content.decode()
    assert 'href="/help/#unit_leader"' in body and ">Hướng dẫn</a>" in body


def test_help_needs_a_sign_in(client):
    assert client.get(reverse("help")).status_code == 302
