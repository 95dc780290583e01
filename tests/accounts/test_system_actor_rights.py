"""Authority belongs to actors, not to being a system actor (docs/conventions.md): each system actor
holds the rights portal.actors names for it, checked by the same helpers as people. Before, every
system actor passed `ensure_it_admin`, "anonymous" and the lookup API included."""
import pytest

from accounts.models import User
from accounts.permissions import ensure_it_admin, ensure_right, has_right
from accounts.services.dormancy import dormant_accounts_disable
from accounts.services.lifecycle import account_create, account_disable
from policy.selectors import current_policy
from policy.services import policy_update
from portal.actors import SYSTEM_ACTOR_LABELS, SYSTEM_ACTOR_RIGHTS, Right, SystemActor
from portal.errors import NotAllowed


@pytest.mark.parametrize("name", ["anonymous", "lookup_api", "system", "reminder_job", "dormant_job"])
def test_it_refuses_an_account_created_by_a_system_actor_without_the_right(db, units, name):
    with pytest.raises(NotAllowed):
        account_create(actor=SystemActor(name), username="cb.khongduoc", full_name="Nguyễn Văn Không",
                       unit=units["tan_phong"], role="officer")
    assert User.objects.filter(username="cb.khongduoc").count() == 0


def test_it_refuses_the_lookup_api_disabling_an_account(db, officer_bien_hoa):
    with pytest.raises(NotAllowed):
        account_disable(actor=SystemActor("lookup_api"), account=officer_bien_hoa, reason="thử")
    officer_bien_hoa.refresh_from_db()
    assert officer_bien_hoa.is_active is True


def test_it_refuses_anonymous_changing_the_policy(db):
    before = current_policy().min_length
    with pytest.raises(NotAllowed):
        policy_update(actor=SystemActor("anonymous"), values={"min_length": before + 4})
    assert current_policy().min_length == before


def test_the_command_line_keeps_the_it_centers_authority(db, units):
    account, password, record = account_create(actor=SystemActor("command_line"), username="cb.moi",
                                                full_name="Trần Thị Mới", unit=units["tan_phong"], role="officer")
    assert User.objects.filter(username="cb.moi").count() == 1
    assert record.issued_by_name == "system:command_line"


def test_the_dormant_job_runs_its_pass_but_holds_nothing_else(db):
    job = SystemActor("dormant_job")
    assert dormant_accounts_disable(actor=job) == []
    assert has_right(job, Right.DORMANT_ACCOUNTS_DISABLE) is True
    assert has_right(job, Right.ACCOUNTS_CHANGE) is False
    with pytest.raises(NotAllowed):
        ensure_it_admin(job)


def test_people_hold_the_rights_of_their_role(db, it_admin, inspector, leader_bien_hoa, officer_bien_hoa):
    assert has_right(it_admin, Right.TURNOVER_EXECUTE) is True
    for person in (inspector, leader_bien_hoa, officer_bien_hoa):
        with pytest.raises(NotAllowed):
            ensure_right(person, Right.ACCOUNTS_CHANGE)
    it_admin.is_active = False
    assert has_right(it_admin, Right.ADMINISTER) is False


def test_every_system_actor_names_its_rights():
    assert set(SYSTEM_ACTOR_RIGHTS) == set(SYSTEM_ACTOR_LABELS)
    assert SYSTEM_ACTOR_RIGHTS["anonymous"] == frozenset()


def test_the_actor_is_never_none():
    with pytest.raises(TypeError):
        ensure_it_admin(None)
