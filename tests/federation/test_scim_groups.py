"""SCIM Groups and the role mapping page: the mapping's names are Groups on the target (found or created),
an account joins its role's group and moves when its role (or the mapping) changes; the mapping is
edited on a page by the IT Center only, validated, audited, and the accounts concerned pushed again."""
import pytest

from accounts.choices import Role
from accounts.services.lifecycle import account_create, account_disable, account_update
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, ScimAccount, ScimGroup
from federation.propagation import deliveries_send
from federation.services import system_register_target
from federation.targets import system_role_mapping_set
from portal.actors import COMMAND_LINE, SystemActor
from portal.errors import NotAllowed, PolicyViolation

from ..helpers import ScimServer, login


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def target(units, scim_server):
    return system_register_target(actor=COMMAND_LINE, name="Một cửa Biên Hòa", unit=units["bien_hoa"],
                                  kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN,
                                  role_mapping={"officer": "staff", "unit_leader": "manager"})


def _send() -> dict:
    return deliveries_send(list(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
                                .values_list("pk", flat=True)))


def _groups(scim_server) -> dict:
    """{displayName: sorted userNames of its members} of what the target holds."""
    names = {resource.id: resource.user_name for resource in scim_server.storage.resources
             if getattr(resource, "user_name", None)}
    return {resource.display_name: sorted(names.get(member.value, member.value) for member in resource.members or [])
            for resource in scim_server.storage.resources if getattr(resource, "display_name", None)
            and not getattr(resource, "user_name", None)}


def _create(units, username="cb.tanphong2", role=Role.OFFICER):
    return account_create(actor=COMMAND_LINE, username=username, full_name="Đặng Thu Hà", unit=units["tan_phong"],
                          role=role)[0]


def test_an_account_joins_its_roles_group_created_once_and_moves_when_its_role_changes(units, target, scim_server):
    first = _create(units)
    _create(units, username="cb.tanphong3")
    assert _send() == {"delivered": 2, "retrying": 0, "failed": 0}
    assert _groups(scim_server) == {"staff": ["cb.tanphong2", "cb.tanphong3"]}
    staff = ScimGroup.objects.get(system=target, name="staff")
    assert ScimAccount.objects.get(account=first).group == "staff"

    account_update(actor=COMMAND_LINE, account=first, values={"role": Role.UNIT_LEADER})
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert _groups(scim_server) == {"staff": ["cb.tanphong3"], "manager": ["cb.tanphong2"]}
    assert ScimGroup.objects.get(system=target, name="staff").external_id == staff.external_id
    assert sorted(ScimGroup.objects.filter(system=target).values_list("name", flat=True)) == ["manager", "staff"]
    assert ScimAccount.objects.get(account=first).group == "manager"

    # Disabling deactivates the user there and leaves its group as it is (no second change to undo).
    account_disable(actor=COMMAND_LINE, account=first, reason="Nghỉ hưu")
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert _groups(scim_server)["manager"] == ["cb.tanphong2"]
    assert scim_server.users()["cb.tanphong2"].active is False


def test_a_group_already_on_the_target_is_used_not_duplicated(units, target, scim_server):
    from .test_scim import _http

    with _http(scim_server) as http:
        made = http.post("Groups", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                         "displayName": "staff"})
    assert made.status_code == 201
    _create(units)
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert _groups(scim_server) == {"staff": ["cb.tanphong2"]}
    assert ScimGroup.objects.get(system=target, name="staff").external_id == made.json()["id"]


def test_a_group_deleted_on_the_target_is_made_again(units, target, scim_server):
    from .test_scim import _http

    _create(units)
    _send()
    leader = _create(units, username="cb.tanphong3", role=Role.UNIT_LEADER)
    _send()
    with _http(scim_server) as http:
        assert http.delete(f"Groups/{ScimGroup.objects.get(name='manager').external_id}").status_code == 204
    account_update(actor=COMMAND_LINE, account=leader, values={"full_name": "Đặng Thu Hằng"})
    account_update(actor=COMMAND_LINE, account=ScimAccount.objects.get(group="staff").account,
                   values={"role": Role.UNIT_LEADER})
    assert _send() == {"delivered": 2, "retrying": 0, "failed": 0}
    assert _groups(scim_server) == {"staff": [], "manager": ["cb.tanphong2"]}


def test_changing_the_mapping_moves_the_accounts_of_the_changed_roles_only(units, target, scim_server, it_admin):
    _create(units)
    _create(units, username="cb.lanhdao", role=Role.UNIT_LEADER)
    _send()
    queued = system_role_mapping_set(actor=it_admin, system=target,
                                     mapping={"officer": "nhan-vien", "unit_leader": "manager", "inspector": ""})
    assert queued == 1
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert _groups(scim_server) == {"staff": [], "manager": ["cb.lanhdao"], "nhan-vien": ["cb.tanphong2"]}
    assert [role.value for role in scim_server.users()["cb.tanphong2"].roles] == ["nhan-vien"]
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_CHANGED, details__has_key="pushes_queued")
    assert (event.actor_username, event.details["old"], event.details["new"]) == (
        it_admin.username, {"role_mapping": {"officer": "staff", "unit_leader": "manager"}},
        {"role_mapping": {"officer": "nhan-vien", "unit_leader": "manager"}})
    # The same mapping again changes nothing and records nothing.
    assert system_role_mapping_set(actor=it_admin, system=target,
                                   mapping={"officer": "nhan-vien", "unit_leader": "manager"}) == 0
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_CHANGED, details__has_key="pushes_queued").count() == 1


@pytest.mark.parametrize("actor", [SystemActor("quarantine_job"), SystemActor("reconcile_job")])
def test_only_the_it_center_changes_the_mapping(target, actor):
    with pytest.raises(NotAllowed):
        system_role_mapping_set(actor=actor, system=target, mapping={"officer": "x"})
    target.refresh_from_db()
    assert target.role_mapping == {"officer": "staff", "unit_leader": "manager"}


def test_the_mapping_page_saves_and_queues(admin_client, units, target, scim_server):
    _create(units)
    _send()
    page = admin_client.get(f"/admin/systems/{target.pk}/role-mapping/")
    assert page.status_code == 200
    assert 'value="staff"' in page.content.decode()
    saved = admin_client.post(f"/admin/systems/{target.pk}/role-mapping/",
                              {"officer": " can-bo ", "unit_leader": "manager", "it_admin": "", "inspector": ""})
    assert saved.status_code == 302 and saved["Location"] == f"/admin/systems/{target.pk}/"
    target.refresh_from_db()
    assert target.role_mapping == {"officer": "can-bo", "unit_leader": "manager"}
    assert Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY,
                                   reason="role_mapping").count() == 1
    shown = admin_client.get(f"/admin/systems/{target.pk}/")
    assert "officer → can-bo" in shown.content.decode()
    assert f'href="/admin/systems/{target.pk}/role-mapping/"' in shown.content.decode()


@pytest.mark.parametrize("value", ["staff\u200bx", "x" * 101, "nhóm\ncán bộ"])
def test_the_mapping_page_refuses_bad_names_with_a_message_and_changes_nothing(admin_client, target, value):
    refused = admin_client.post(f"/admin/systems/{target.pk}/role-mapping/", {"officer": value})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert 'role="alert"' in text
    target.refresh_from_db()
    assert target.role_mapping == {"officer": "staff", "unit_leader": "manager"}
    assert not SecurityEvent.objects.filter(kind=EventKind.SYSTEM_CHANGED, details__has_key="pushes_queued").exists()


def test_the_mapping_page_is_the_it_centers(client, target, inspector, leader_bien_hoa):
    for person in (inspector, leader_bien_hoa):
        login(client, person)
        assert client.get(f"/admin/systems/{target.pk}/role-mapping/").status_code == 403
        assert client.post(f"/admin/systems/{target.pk}/role-mapping/", {"officer": "x"}).status_code == 403
    target.refresh_from_db()
    assert target.role_mapping == {"officer": "staff", "unit_leader": "manager"}


def test_a_manual_target_has_no_mapping_page(admin_client, units):
    manual = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    assert admin_client.get(f"/admin/systems/{manual.pk}/role-mapping/").status_code == 404
    with pytest.raises(PolicyViolation) as refused:
        system_role_mapping_set(actor=COMMAND_LINE, system=manual, mapping={"officer": "x"})
    assert refused.value.code == "not_scim"
    assert ConnectedSystem.objects.get(pk=manual.pk).role_mapping == {}
