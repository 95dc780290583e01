"""SCIM 2.0 provisioning against a real SCIM server (scim2-server, in memory, on a port of localhost):
accounts of the target's unit subtree created, updated, deactivated with PATCH active=false (never
deleted), reactivated; an account outside the subtree never sent; a target down retried and delivered
when back, then quarantined when it keeps failing; a 409 on create and a 404 on update handled."""
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.choices import Role
from accounts.services.lifecycle import account_create, account_disable, account_enable, account_update
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, ScimAccount
from federation.propagation import deliveries_send
from federation.services import system_register_target
from incidents.services.containment import account_contain, containment_lift
from notifications.alerts import alerts_send
from notifications.models import Notice
from portal.actors import COMMAND_LINE
from portal.errors import PolicyViolation

from ..helpers import ScimServer


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def target(units, scim_server):
    """A SCIM target owned by Biên Hòa (Biên Hòa and Tân Phong's accounts), roles renamed."""
    return system_register_target(actor=COMMAND_LINE, name="Hệ thống Một cửa Biên Hòa", unit=units["bien_hoa"],
                                  kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN,
                                  role_mapping={"officer": "staff", "unit_leader": "manager"})


def _send(*, now_due=False) -> dict:
    """Run the delivery job on the SCIM pushes waiting (now_due: as if their retry time had come)."""
    pending = Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
    if now_due:
        pending.update(next_at=timezone.now())
    return deliveries_send(list(pending.values_list("pk", flat=True)))


def _create(units, username="cb.tanphong2", unit="tan_phong", **extra):
    account, _password, _record = account_create(actor=COMMAND_LINE, username=username, full_name="Đặng Thu Hà",
                                                 unit=units[unit], role=Role.OFFICER, email=f"{username}@dongnai.gov.vn",
                                                 **extra)
    return account


def test_create_update_deactivate_reactivate(units, target, scim_server):
    account = _create(units, can_lookup=True)
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    held = scim_server.users()["cb.tanphong2"]
    link = ScimAccount.objects.get(system=target, account=account)
    assert (link.external_id, link.active) == (held.id, True)
    assert (held.display_name, held.active, held.external_id) == ("Đặng Thu Hà", True, str(account.pk))
    assert [role.value for role in held.roles] == ["staff"]
    assert [entitlement.value for entitlement in held.entitlements] == ["citizen_lookup"]
    assert held.emails[0].value == "cb.tanphong2@dongnai.gov.vn"

    account_update(actor=COMMAND_LINE, account=account,
                   values={"full_name": "Đặng Thu Hằng", "role": Role.UNIT_LEADER, "unit": units["bien_hoa"],
                           "can_lookup": False})
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    held = scim_server.users()["cb.tanphong2"]
    assert held.id == link.external_id
    assert (held.display_name, [role.value for role in held.roles], held.entitlements) == (
        "Đặng Thu Hằng", ["manager"], None)
    assert held.model_dump()["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] == \
        units["bien_hoa"].code

    account_disable(actor=COMMAND_LINE, account=account, reason="Nghỉ hưu")
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    held = scim_server.users()["cb.tanphong2"]  # still there: PATCH active=false, never DELETE
    assert (held.id, held.active) == (link.external_id, False)
    assert ScimAccount.objects.get(pk=link.pk).active is False

    account_enable(actor=COMMAND_LINE, account=account)
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is True
    assert list(SecurityEvent.objects.filter(kind=EventKind.SYSTEM_ACCOUNT_PUSHED, target=account)
                .order_by("pk").values_list("details__scim", flat=True)) == [
        "created", "updated", "deactivated", "updated"]


def test_an_account_outside_the_subtree_is_never_sent(units, target, scim_server):
    outside = _create(units, username="cb.xuanan2", unit="xuan_an")
    account_update(actor=COMMAND_LINE, account=outside, values={"full_name": "Đặng Thu Hằng"})
    account_disable(actor=COMMAND_LINE, account=outside, reason="Chuyển công tác")
    assert Delivery.objects.filter(account=outside).count() == 0
    assert _send() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert scim_server.users() == {}


def test_moved_out_of_the_subtree_is_deactivated_there(units, target, scim_server):
    account = _create(units)
    _send()
    account_update(actor=COMMAND_LINE, account=account, values={"unit": units["xuan_an"]})
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is False


def test_provisioning_a_new_target_sends_its_subtree_only(units, scim_server, officer_bien_hoa, officer_long_khanh):
    call_command("connect_system", "Hộ tịch Biên Hòa", "--unit", units["bien_hoa"].code, "--kind", "scim",
                 "--scim-url", scim_server.url, "--scim-token", ScimServer.TOKEN, "--role-map", "officer=nhanvien")
    system = ConnectedSystem.objects.get(name="Hộ tịch Biên Hòa")
    assert ScimServer.TOKEN.encode() not in bytes(system.scim_token_encrypted)
    assert system.role_mapping == {"officer": "nhanvien"}
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert list(scim_server.users()) == ["cb.tanphong"]


def test_a_bad_token_or_address_is_refused(units):
    with pytest.raises(PolicyViolation) as refused:
        system_register_target(actor=COMMAND_LINE, name="X", unit=units["bien_hoa"], kind=SystemKind.SCIM,
                               scim_url="ftp://x", scim_token=ScimServer.TOKEN)
    assert refused.value.code == "uri_invalid"
    with pytest.raises(PolicyViolation) as refused:
        system_register_target(actor=COMMAND_LINE, name="X", unit=units["bien_hoa"], kind=SystemKind.SCIM,
                               scim_url="https://scim.example.vn/v2/", scim_token="short")
    assert refused.value.code == "scim_token_invalid"
    assert ConnectedSystem.objects.count() == 0


def test_the_target_down_while_an_officer_is_disabled_is_retried_and_delivered_when_back(units, target, scim_server):
    account = _create(units)
    _send()
    scim_server.stop()
    account_disable(actor=COMMAND_LINE, account=account, reason="Thôi việc")
    assert _send() == {"delivered": 0, "retrying": 1, "failed": 0}
    row = Delivery.objects.get(account=account, kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
    assert row.attempts == 1 and row.last_error.startswith("RequestNetworkException")
    scim_server.start()
    assert _send(now_due=True) == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is False


def test_a_target_failing_every_attempt_is_quarantined_nothing_dropped(units, target, scim_server, it_admin):
    scim_server.stop()
    account = _create(units)
    for _attempt in range(5):
        assert _send(now_due=True) == {"delivered": 0, "retrying": 1, "failed": 0}
    target.refresh_from_db()
    assert target.quarantined_at is not None
    row = Delivery.objects.get(account=account, kind=DeliveryKind.SCIM_PUSH)
    assert (row.state, row.attempts) == (DeliveryState.READY, 5)
    assert row.next_at > timezone.now() + timedelta(hours=23)
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_QUARANTINED).count() == 1
    assert _send(now_due=True) == {"delivered": 0, "retrying": 1, "failed": 0}
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_QUARANTINED).count() == 1  # once
    alerted = alerts_send()
    alerts = Notice.objects.filter(pk__in=alerted, context__source="systems_quarantined")
    assert [notice.context["lines"] for notice in alerts] == [
        [f"Hệ thống Một cửa Biên Hòa ({units['bien_hoa'].code}) từ "
         f"{timezone.localtime(target.quarantined_at):%d/%m/%Y %H:%M}"]]
    assert Notice.objects.filter(pk__in=alerts_send(), context__source="systems_quarantined").count() == 0
    scim_server.start()
    assert _send(now_due=True) == {"delivered": 1, "retrying": 0, "failed": 0}
    target.refresh_from_db()
    assert target.quarantined_at is None
    assert scim_server.users()["cb.tanphong2"].active is True


def _http(scim_server):
    import httpx2

    return httpx2.Client(base_url=scim_server.url, headers={"Authorization": f"Bearer {ScimServer.TOKEN}",
                                                             "Content-Type": "application/scim+json"})


def test_a_409_on_create_adopts_the_existing_id(units, target, scim_server):
    with _http(scim_server) as http:
        made = http.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                        "userName": "cb.tanphong2", "active": True})
    assert made.status_code == 201
    account = _create(units)
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert ScimAccount.objects.get(system=target, account=account).external_id == made.json()["id"]
    assert scim_server.users()["cb.tanphong2"].display_name == "Đặng Thu Hà"
    assert SecurityEvent.objects.get(kind=EventKind.SYSTEM_ACCOUNT_PUSHED, target=account).details["scim"] == "adopted"


def test_a_404_on_update_re_creates(units, target, scim_server):
    account = _create(units)
    _send()
    link = ScimAccount.objects.get(system=target, account=account)
    with _http(scim_server) as http:
        assert http.delete(f"Users/{link.external_id}").status_code == 204
    account_update(actor=COMMAND_LINE, account=account, values={"email": "ha.dt@dongnai.gov.vn"})
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    held = scim_server.users()["cb.tanphong2"]
    link.refresh_from_db()
    assert link.external_id == held.id and held.emails[0].value == "ha.dt@dongnai.gov.vn"


def test_containment_deactivates_when_chosen_and_lifting_reactivates(units, target, scim_server, it_admin):
    account = _create(units)
    _send()
    account_contain(actor=COMMAND_LINE, account=account, reason="Nghi lộ mật khẩu", deactivate_targets=True)
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is False
    containment_lift(actor=COMMAND_LINE, account=account, reason="Đã xử lý")
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is True


def test_the_registry_shows_scim_targets(admin_client, target):
    Delivery.objects.all().delete()
    ConnectedSystem.objects.filter(pk=target.pk).update(quarantined_at=timezone.now())
    page = admin_client.get("/admin/systems/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Hệ thống Một cửa Biên Hòa" in text and target.scim_url in text and 'data-testid="quarantined"' in text
    detail = admin_client.get(f"/admin/systems/{target.pk}/")
    assert detail.status_code == 200 and "officer → staff" in detail.content.decode()
