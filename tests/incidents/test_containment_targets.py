"""Containment and the connected systems that keep their own accounts (a real SCIM server, in memory, and
a manual target): sessions and tokens always end, the accounts are deactivated there only when chosen
(`--deactivate-targets`, the checkbox), each as the step "targets" with its own result; lifting reactivates
them only when the containment deactivated them."""
import pytest
from django.core.management import call_command

from accounts.models import Unit, User
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import Delivery, ManualTask
from federation.propagation import account_changed, deliveries_send
from federation.services import system_provision_all, system_register_target
from incidents.models import Containment
from incidents.services.containment import account_contain, containment_lift, unit_contain
from portal.actors import COMMAND_LINE
from tests.factories import UserFactory

from ..helpers import ScimServer


@pytest.fixture
def target(units, scim_server, officer_bien_hoa, leader_bien_hoa):
    """A SCIM target of Biên Hòa holding its two accounts (created there before each test)."""
    system = system_register_target(actor=COMMAND_LINE, name="Hệ thống Một cửa Biên Hòa", unit=units["bien_hoa"],
                                    kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN)
    system_provision_all(actor=COMMAND_LINE, system=system)
    assert _send() == {"delivered": 2, "retrying": 0, "failed": 0}
    return system


@pytest.fixture
def manual_target(units, target):
    system = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán Biên Hòa", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    system_provision_all(actor=COMMAND_LINE, system=system)
    _send()  # provisioning pushes to every target: the SCIM one already holds both accounts
    return system


def _send() -> dict:
    pending = Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
    return deliveries_send(list(pending.values_list("pk", flat=True)))


def _active(scim_server) -> dict:
    return {username: user.active for username, user in scim_server.users().items()}


def _outcomes(steps) -> dict:
    return {step["step"]: step["outcome"] for step in steps}


def test_without_the_choice_the_accounts_stay_active_there_and_lifting_pushes_nothing(
        units, it_admin, officer_bien_hoa, target, scim_server, manual_target):
    tasks_before = ManualTask.objects.filter(action=ManualTask.Action.DEACTIVATE).count()

    result = account_contain(actor=it_admin, account=officer_bien_hoa, reason="Nghi lộ mật khẩu")

    assert _outcomes(result.steps) == {"hold": "done", "sessions": "done", "password_change": "done",
                                       "lookups": "done", "targets": "skipped"}
    assert Containment.objects.get().targets_deactivated is False
    assert User.objects.get(pk=officer_bien_hoa.pk).contained_targets_deactivated is False
    assert _send() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert _active(scim_server) == {"cb.tanphong": True, "ld.bienhoa": True}
    assert ManualTask.objects.filter(action=ManualTask.Action.DEACTIVATE).count() == tasks_before

    lifted = containment_lift(actor=it_admin, account=officer_bien_hoa, reason="Đã xử lý")

    assert _outcomes(lifted.steps)["targets"] == "skipped"
    assert Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY).count() == 0
    assert _active(scim_server) == {"cb.tanphong": True, "ld.bienhoa": True}


def test_a_unit_contained_with_the_choice_is_deactivated_there_and_lifting_reactivates_it(
        units, it_admin, officer_bien_hoa, leader_bien_hoa, officer_long_khanh, target, scim_server, manual_target,
        capsys):
    call_command("contain_unit", units["bien_hoa"].code, "--reason", "Lộ mật khẩu tại Biên Hòa",
                 "--deactivate-targets")

    containment = Containment.objects.get()
    assert containment.targets_deactivated is True
    assert _outcomes(containment.steps)["targets"] == "done"
    assert "[done] targets:" in capsys.readouterr().out
    assert Unit.objects.get(pk=units["bien_hoa"].pk).contained_targets_deactivated is True
    assert _send() == {"delivered": 2, "retrying": 0, "failed": 0}
    assert _active(scim_server) == {"cb.tanphong": False, "ld.bienhoa": False}
    assert ManualTask.objects.filter(action=ManualTask.Action.DEACTIVATE, done_at=None).count() == 2
    # An account created in the contained subtree meanwhile is not created on the target.
    newcomer = UserFactory(username="cb.bienhoa2", unit=units["tan_phong"])
    account_changed(account=newcomer, reason="created")
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}  # settled with nothing sent
    assert "cb.bienhoa2" not in scim_server.users()

    call_command("lift_containment", units["bien_hoa"].code, "--reason", "Đã đổi toàn bộ mật khẩu")

    lift_steps = Containment.objects.get().lift_steps
    assert _outcomes(lift_steps)["targets"] == "done"
    assert Unit.objects.get(pk=units["bien_hoa"].pk).contained_targets_deactivated is False
    assert _send() == {"delivered": 3, "retrying": 0, "failed": 0}
    assert _active(scim_server) == {"cb.tanphong": True, "ld.bienhoa": True, "cb.bienhoa2": True}
    assert ManualTask.objects.filter(action=ManualTask.Action.REACTIVATE, done_at=None).count() == 2
    assert "cb.xuanan" not in scim_server.users()


def test_lifting_an_account_still_held_by_its_units_deactivation_keeps_it_deactivated(
        units, it_admin, officer_bien_hoa, target, scim_server):
    account_contain(actor=it_admin, account=officer_bien_hoa, reason="Nghi lộ mật khẩu", deactivate_targets=True)
    unit_contain(actor=it_admin, unit=units["tan_phong"], reason="Mã độc tại phường", deactivate_targets=True)
    _send()
    assert _active(scim_server)["cb.tanphong"] is False

    lifted = containment_lift(actor=it_admin, account=officer_bien_hoa, reason="Tài khoản đã xử lý")

    targets = next(step for step in lifted.steps if step["step"] == "targets")
    assert targets["outcome"] == "done"
    assert targets["detail"] == ("0 tài khoản được kích hoạt lại trên các hệ thống kết nối tự quản lý tài khoản; "
                                 "1 tài khoản vẫn bị vô hiệu hóa do một lệnh khoanh vùng khác đang áp dụng")
    assert Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY).count() == 0
    assert _active(scim_server)["cb.tanphong"] is False


def test_the_checkbox_on_the_unit_page_chooses_the_deactivation(units, admin_client, officer_bien_hoa, target,
                                                                scim_server):
    url = f"/incidents/units/{units['tan_phong'].pk}/"
    page = admin_client.get(url)
    assert 'name="deactivate_targets"' in page.content.decode()

    answer = admin_client.post(url, {"reason": "Lộ mật khẩu", "deactivate_targets": "on"}, follow=True)

    assert answer.status_code == 200
    assert "Tài khoản trên các hệ thống kết nối" in answer.content.decode()
    assert Unit.objects.get(pk=units["tan_phong"].pk).contained_targets_deactivated is True
    assert _send() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert _active(scim_server) == {"cb.tanphong": False, "ld.bienhoa": True}


def test_the_account_card_without_the_checkbox_keeps_the_account_active_there(units, admin_client, officer_bien_hoa,
                                                                              target, scim_server):
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/")
    assert page.content.decode().count('name="deactivate_targets"') == 1

    answer = admin_client.post(f"/incidents/accounts/{officer_bien_hoa.pk}/contain/", {"reason": "Nghi lộ"},
                               follow=True)

    assert answer.status_code == 200
    assert User.objects.get(pk=officer_bien_hoa.pk).contained_at is not None
    assert Containment.objects.get().targets_deactivated is False
    assert _send() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert _active(scim_server) == {"cb.tanphong": True, "ld.bienhoa": True}
