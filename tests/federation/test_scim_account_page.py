"""The account page lists, per connected system, the SCIM pushes of the account (state, attempts, last
error, the target's id) and its manual tasks; a manual task's evidence is downloaded by the IT Center
and inspectors only, as an attachment with safe headers, and each download is in the security log."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.choices import Role
from accounts.services.lifecycle import account_create, account_disable
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import Delivery, ManualTask, ScimAccount
from federation.propagation import deliveries_send
from federation.selectors import account_provisioning
from federation.services import manual_task_complete, system_register_target
from portal.actors import COMMAND_LINE

from ..factories import UserFactory
from ..helpers import ScimServer, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def systems(units, scim_server):
    scim = system_register_target(actor=COMMAND_LINE, name="Một cửa Biên Hòa", unit=units["bien_hoa"],
                                  kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN)
    manual = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    return scim, manual


@pytest.fixture
def officer(units, systems, scim_server, settings, tmp_path):
    """An officer of Tân Phong pushed to the SCIM target, then disabled while the target is down (one
    failed attempt waiting); their manual "create" task done with a screenshot."""
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    account = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan", unit=units["tan_phong"],
                             role=Role.OFFICER)[0]
    deliveries_send(list(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH).values_list("pk", flat=True)))
    manual_task_complete(actor=COMMAND_LINE, task=ManualTask.objects.get(account=account), note="Đã tạo tài khoản",
                         evidence=SimpleUploadedFile("C:\\anh chup\\man-hinh.exe", PNG))
    scim_server.stop()
    account_disable(actor=COMMAND_LINE, account=account, reason="Nghỉ việc")
    deliveries_send(list(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
                         .values_list("pk", flat=True)))
    return account


def test_the_selector_lists_pushes_and_tasks_per_system_in_three_queries(officer, systems, django_assert_num_queries):
    scim, manual = systems
    with django_assert_num_queries(3):
        items = account_provisioning(officer)
    assert [item.system.name for item in items] == ["Một cửa Biên Hòa", "Phần mềm kế toán"]
    pushes = items[0].pushes
    assert [(push.reason, push.state, push.attempts) for push in pushes] == [
        ("account_disabled", DeliveryState.READY, 1), ("created", DeliveryState.DELIVERED, 1)]
    assert pushes[0].last_error.startswith("RequestNetworkException")
    assert items[0].link == ScimAccount.objects.get(system=scim, account=officer)
    assert [(task.action, task.done_at is not None) for task in items[1].tasks] == [("deactivate", False),
                                                                                  ("create", True)]
    assert items[1].pushes == [] and items[1].link is None


def test_the_account_page_shows_the_card_to_the_it_center_with_the_evidence_link(admin_client, officer, systems):
    page = admin_client.get(f"/admin/accounts/{officer.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    link = ScimAccount.objects.get(account=officer)
    task = ManualTask.objects.get(account=officer, action="create")
    assert 'data-testid="account-provisioning"' in text
    assert text.count('data-testid="scim-push"') == 2 and text.count('data-testid="manual-task"') == 2
    assert link.external_id in text and "RequestNetworkException" in text
    assert f'href="/admin/systems/tasks/{task.pk}/evidence/"' in text
    assert "Tài khoản bị vô hiệu hóa hoặc khoanh vùng" in text


def test_a_leader_in_scope_sees_the_card_without_the_evidence_link(client, leader_bien_hoa, officer):
    login(client, leader_bien_hoa)
    page = client.get(f"/admin/accounts/{officer.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="scim-push"') == 2
    assert "/evidence/" not in text and "man-hinh" in text


def test_a_leader_out_of_scope_gets_404(client, units, officer):
    leader = UserFactory(username="ld.longkhanh", role=Role.UNIT_LEADER, unit=units["long_khanh"])
    login(client, leader)
    assert client.get(f"/admin/accounts/{officer.pk}/").status_code == 404


def test_an_account_no_system_knows_shows_no_card(admin_client, officer_long_khanh, systems):
    page = admin_client.get(f"/admin/accounts/{officer_long_khanh.pk}/")
    assert page.status_code == 200 and 'data-testid="account-provisioning"' not in page.content.decode()


@pytest.mark.parametrize("reader", ["it_admin", "inspector"])
def test_the_evidence_downloads_as_an_attachment_and_is_audited(client, request, reader, officer):
    person = request.getfixturevalue(reader)
    login(client, person)
    task = ManualTask.objects.get(account=officer, action="create")
    answer = client.get(f"/admin/systems/tasks/{task.pk}/evidence/")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == PNG
    assert answer["Content-Type"] == "image/png"
    assert answer["Content-Disposition"] == 'attachment; filename="man-hinh.png"'
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in answer["Cache-Control"].split(", ")
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_EVIDENCE_DOWNLOADED)
    assert (event.actor_username, event.target_id, event.details["task"], event.details["evidence_sha256"]) == (
        person.username, officer.pk, task.pk, task.evidence_sha256)


@pytest.mark.parametrize("reader", ["leader_bien_hoa", "officer_bien_hoa"])
def test_others_may_not_download_the_evidence(client, request, reader, officer):
    login(client, request.getfixturevalue(reader))
    task = ManualTask.objects.get(account=officer, action="create")
    assert client.get(f"/admin/systems/tasks/{task.pk}/evidence/").status_code == 403
    assert not SecurityEvent.objects.filter(kind=EventKind.SYSTEM_EVIDENCE_DOWNLOADED).exists()


def test_no_evidence_an_unknown_task_or_a_lost_file_is_404(admin_client, officer, settings, tmp_path):
    waiting = ManualTask.objects.get(account=officer, action="deactivate")
    assert admin_client.get(f"/admin/systems/tasks/{waiting.pk}/evidence/").status_code == 404
    assert admin_client.get("/admin/systems/tasks/999999/evidence/").status_code == 404
    done = ManualTask.objects.get(account=officer, action="create")
    (tmp_path / "federation" / f"{done.evidence_sha256}.png").unlink()
    assert admin_client.get(f"/admin/systems/tasks/{done.pk}/evidence/").status_code == 404
    assert not SecurityEvent.objects.filter(kind=EventKind.SYSTEM_EVIDENCE_DOWNLOADED).exists()


def test_the_task_list_links_the_evidence(admin_client, officer):
    task = ManualTask.objects.get(account=officer, action="create")
    page = admin_client.get("/admin/systems/tasks/")
    assert f'href="/admin/systems/tasks/{task.pk}/evidence/"' in page.content.decode()
