"""Manual targets (a system with no interface): each account change becomes a task for the IT Center
with a service-level clock, closed with a note and an evidence file checked by its content."""
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.choices import Role
from accounts.services.lifecycle import account_create, account_disable, account_update
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import SystemKind
from federation.models import ManualTask
from federation.services import manual_task_complete, system_register_target
from portal.actors import COMMAND_LINE
from portal.errors import PolicyViolation

from ..helpers import pdf_bytes

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def manual_system(units):
    return system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                  kind=SystemKind.MANUAL)


def _tasks():
    return [(task.account.username, task.action) for task in ManualTask.objects.order_by("pk")]


def test_each_change_becomes_a_task_with_a_clock(units, manual_system, settings):
    before = timezone.now()
    account = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan", unit=units["tan_phong"],
                             role=Role.OFFICER)[0]
    account_create(actor=COMMAND_LINE, username="cb.xuanan9", full_name="Ngoài cây", unit=units["xuan_an"],
                   role=Role.OFFICER)
    account_update(actor=COMMAND_LINE, account=account, values={"full_name": "Lý Thị Lan Anh"})
    account_disable(actor=COMMAND_LINE, account=account, reason="Nghỉ việc")
    assert _tasks() == [("cb.ketoan", "create"), ("cb.ketoan", "update"), ("cb.ketoan", "deactivate")]
    task = ManualTask.objects.get(action="deactivate")
    assert before + timedelta(hours=settings.FEDERATION_MANUAL_TASK_HOURS) <= task.due_at
    assert task.due_at <= timezone.now() + timedelta(hours=settings.FEDERATION_MANUAL_TASK_HOURS)


@pytest.mark.parametrize("name, data, code", [
    ("bang-chung.pdf", b"this is not a pdf at all", "evidence_type"),
    ("bang-chung.png", b"GIF89a" + b"\x00" * 32, "evidence_type"),
    ("bang-chung.pdf", b"%PDF-1.4 broken", "attachment_damaged"),
    ("trong.pdf", b"", "evidence_empty"),
])
def test_a_task_with_bad_evidence_is_refused_and_stays_open(units, manual_system, name, data, code):
    account = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan", unit=units["tan_phong"],
                             role=Role.OFFICER)[0]
    task = ManualTask.objects.get(account=account)
    with pytest.raises(PolicyViolation) as refused:
        manual_task_complete(actor=COMMAND_LINE, task=task, note="Đã tạo tài khoản",
                             evidence=SimpleUploadedFile(name, data))
    assert refused.value.code == code
    task.refresh_from_db()
    assert (task.done_at, task.evidence_sha256) == (None, "")
    assert not SecurityEvent.objects.filter(kind=EventKind.SYSTEM_MANUAL_TASK_DONE).exists()


def test_a_task_done_with_a_screenshot_or_a_pdf(units, manual_system, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    account = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan", unit=units["tan_phong"],
                             role=Role.OFFICER)[0]
    task = manual_task_complete(actor=COMMAND_LINE, task=ManualTask.objects.get(account=account),
                                note="Đã tạo tài khoản trên phần mềm", evidence=SimpleUploadedFile("anh.png", PNG))
    assert (task.evidence_type, task.done_by_name) == ("png", "system:command_line")
    assert (tmp_path / "federation" / f"{task.evidence_sha256}.png").read_bytes() == PNG
    with pytest.raises(PolicyViolation) as again:
        manual_task_complete(actor=COMMAND_LINE, task=task, note="x", evidence=SimpleUploadedFile("a.pdf", pdf_bytes()))
    assert again.value.code == "task_done"


def test_the_task_list_refuses_bad_evidence_with_a_message(admin_client, units, manual_system, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    account = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan", unit=units["tan_phong"],
                             role=Role.OFFICER)[0]
    task = ManualTask.objects.get(account=account)
    page = admin_client.get("/admin/systems/tasks/")
    assert page.status_code == 200
    assert "Tạo tài khoản cb.ketoan (Lý Thị Lan) trên hệ thống Phần mềm kế toán" in page.content.decode()
    refused = admin_client.post(f"/admin/systems/tasks/{task.pk}/done/", {
        f"t{task.pk}-note": "Đã tạo", f"t{task.pk}-file": SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>")})
    assert refused.status_code == 400
    assert "PDF" in refused.content.decode()
    done = admin_client.post(f"/admin/systems/tasks/{task.pk}/done/", {
        f"t{task.pk}-note": "Đã tạo", f"t{task.pk}-file": SimpleUploadedFile("bien-ban.pdf", pdf_bytes())})
    assert done.status_code == 302
    assert ManualTask.objects.get(pk=task.pk).evidence_type == "pdf"


def test_officers_do_not_see_the_task_list(client, officer_bien_hoa):
    from ..helpers import login

    login(client, officer_bien_hoa)
    assert client.get("/admin/systems/tasks/").status_code in (403, 404)
