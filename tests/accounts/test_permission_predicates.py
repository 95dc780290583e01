"""One predicate per "who may do X" (accounts.permissions): the service enforces it and the page reads
it to show the button, so the two cannot drift apart (before, the turnover page rebuilt the leader's
subtree rule beside the service's own copy, and every system actor passed the services' checks)."""
import pytest

from accounts import permissions
from accounts.models import TurnoverRequest
from accounts.services.turnover import turnover_request_create
from portal.actors import SystemActor
from portal.errors import NotAllowed


def test_a_leader_files_for_their_subtree_only(units, leader_bien_hoa):
    assert permissions.may_file_turnover_for(leader_bien_hoa, units["tan_phong"]) is True
    assert permissions.may_file_turnover_for(leader_bien_hoa, units["bien_hoa"]) is True
    assert permissions.may_file_turnover_for(leader_bien_hoa, units["long_khanh"]) is False
    assert permissions.may_file_turnover_for(leader_bien_hoa, units["province"]) is False


def test_an_officer_drafts_for_their_own_unit_only(units, officer_bien_hoa):
    assert permissions.may_file_turnover_for(officer_bien_hoa, units["tan_phong"]) is True
    assert permissions.may_file_turnover_for(officer_bien_hoa, units["bien_hoa"]) is False


def test_an_inspector_reads_but_files_nothing(units, inspector):
    assert permissions.may_file_turnover_for(inspector, units["tan_phong"]) is False
    assert permissions.may_reconcile_roster(inspector) is False
    assert permissions.may_certify_accounts(inspector) is False


@pytest.mark.parametrize("name", ["anonymous", "lookup_api", "dormant_job"])
def test_a_system_actor_without_the_it_centers_authority_files_nothing(units, name):
    actor = SystemActor(name)
    assert permissions.may_file_turnover_for(actor, units["tan_phong"]) is False
    assert permissions.may_confirm_turnover_move(actor, units["tan_phong"]) is False
    with pytest.raises(NotAllowed):
        turnover_request_create(actor=actor, unit=units["tan_phong"], letter_number="12/UBND",
                                letter_date=None, effective_date=None, signer_name="", signer_position="",
                                issuing_unit_name="", attachment=None, lines=[])
    assert TurnoverRequest.objects.count() == 0


def test_the_receiving_leader_confirms_a_move_and_no_one_else(units, leader_bien_hoa, it_admin, officer_long_khanh):
    assert permissions.may_confirm_turnover_move(leader_bien_hoa, units["tan_phong"]) is True
    assert permissions.may_confirm_turnover_move(leader_bien_hoa, units["xuan_an"]) is False
    assert permissions.may_confirm_turnover_move(it_admin, units["xuan_an"]) is True
    assert permissions.may_confirm_turnover_move(officer_long_khanh, units["xuan_an"]) is False


def test_a_disabled_leader_holds_no_right(units, leader_bien_hoa):
    leader_bien_hoa.is_active = False
    assert permissions.may_file_turnover_for(leader_bien_hoa, units["tan_phong"]) is False
    assert permissions.may_submit_turnover_request(leader_bien_hoa, TurnoverRequest(unit=units["tan_phong"])) is False
