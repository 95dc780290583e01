"""An account's history as a ward leader reads it (issue 22): the city leader's and the IT Center's
usernames and addresses are not shown to them; their own ward's people and the account's own actions are."""
import pytest
from django.urls import reverse

from accounts.choices import Role
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.audit_context import audit_context
from tests.factories import UserFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


def _event(kind, actor, target, address):
    with audit_context(ip_address=address):
        audit_event_record(kind=kind, actor=actor, target=target)


@pytest.fixture
def history(units, it_admin, leader_bien_hoa):
    ward_leader = UserFactory(username="ld.tanphong", role=Role.UNIT_LEADER, unit=units["tan_phong"])
    officer = UserFactory(username="cb.tanphong2", role=Role.OFFICER, unit=units["tan_phong"])
    _event(EventKind.LOGIN_SUCCESS, officer, officer, "10.0.0.5")
    _event(EventKind.UNLOCK, ward_leader, officer, "10.0.0.6")
    _event(EventKind.PASSWORD_RESET, it_admin, officer, "172.16.1.9")
    _event(EventKind.ACCOUNT_DISABLED, leader_bien_hoa, officer, "172.16.2.7")
    return {"ward_leader": ward_leader, "officer": officer, "it_admin": it_admin, "city_leader": leader_bien_hoa}


def _rows(client, officer):
    response = client.get(reverse("compliance:account", args=[officer.pk]))
    assert response.status_code == 200
    return [(event.shown_actor, event.shown_ip) for event in response.context["events"]], response.content.decode()


def test_a_ward_leader_sees_no_username_or_address_from_above(client, history):
    login(client, history["ward_leader"])
    rows, html = _rows(client, history["officer"])
    assert rows == [("Lãnh đạo đơn vị ngoài phạm vi của bạn", None), ("Quản trị viên Trung tâm CNTT", None),
                    ("ld.tanphong", "10.0.0.6"), ("cb.tanphong2", "10.0.0.5")]
    for hidden in (history["it_admin"].username, history["city_leader"].username, "172.16.1.9", "172.16.2.7"):
        assert hidden not in html


def test_the_city_leader_and_the_it_center_see_everything_in_their_scope(client, history):
    login(client, history["it_admin"])
    rows, _html = _rows(client, history["officer"])
    assert [address for _actor, address in rows] == ["172.16.2.7", "172.16.1.9", "10.0.0.6", "10.0.0.5"]
    client.logout()
    login(client, history["city_leader"])
    rows, _html = _rows(client, history["officer"])
    assert rows[0] == ("ld.bienhoa", "172.16.2.7")
    assert rows[1] == ("Quản trị viên Trung tâm CNTT", None)
