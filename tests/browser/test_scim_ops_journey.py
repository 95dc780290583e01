"""In headless Chromium: an account's page shows what each connected system received (its SCIM pushes,
the target's id, its manual tasks with the evidence to download), and the IT Center edits a SCIM
target's role mapping on its page (a bad name refused with a message, a good one saved). Screenshots at
desktop and 390-pixel widths go to artifacts/."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from accounts.choices import Role
from accounts.services.lifecycle import account_create
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, ManualTask, ScimAccount
from federation.propagation import deliveries_send
from federation.services import manual_task_complete, system_register_target
from portal.actors import COMMAND_LINE
from tests.helpers import ScimServer

from .test_turnover_journey import both_sizes, signed_in

pytestmark = [pytest.mark.browser]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.django_db(transaction=True)
def test_the_account_card_and_the_role_mapping_page(journey, units, it_admin, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    server = ScimServer().start()
    try:
        target = system_register_target(actor=COMMAND_LINE, name="Hệ thống Một cửa Biên Hòa", unit=units["bien_hoa"],
                                        kind=SystemKind.SCIM, scim_url=server.url, scim_token=ScimServer.TOKEN,
                                        role_mapping={"officer": "staff"})
        system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                               kind=SystemKind.MANUAL)
        officer = account_create(actor=COMMAND_LINE, username="cb.ketoan", full_name="Lý Thị Lan",
                                 unit=units["tan_phong"], role=Role.OFFICER)[0]
        deliveries_send(list(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
                             .values_list("pk", flat=True)))
        task = manual_task_complete(actor=COMMAND_LINE, task=ManualTask.objects.get(account=officer),
                                    note="Đã tạo tài khoản", evidence=SimpleUploadedFile("man-hinh.png", PNG))
        link = ScimAccount.objects.get(account=officer)

        admin = signed_in(journey("scim-ops"), it_admin)
        page = admin.page
        page.goto(admin.url(f"/admin/accounts/{officer.pk}/"))
        card = page.locator("[data-testid=account-provisioning]")
        expect(card).to_contain_text("Tài khoản trên các hệ thống kết nối")
        expect(card.locator("[data-testid=target-id]")).to_have_text(link.external_id)
        expect(card.locator("[data-testid=scim-push]")).to_have_count(1)
        expect(card.locator("[data-testid=scim-push]")).to_contain_text("Tạo tài khoản")
        expect(card).to_contain_text("Nhóm: staff")
        expect(card.locator("[data-testid=manual-task]")).to_contain_text("man-hinh.png")
        both_sizes(admin, "01-account-card")
        with page.expect_download() as download:
            card.locator("[data-testid=task-evidence]").click()
        assert download.value.suggested_filename == "man-hinh.png"
        assert open(download.value.path(), "rb").read() == PNG
        assert task.evidence_sha256

        page.goto(admin.url(f"/admin/systems/{target.pk}/"))
        with page.expect_navigation():
            page.click("[data-testid=role-mapping-link]")
        form = page.locator("[data-testid=role-mapping-form]")
        expect(form.locator("input[name=officer]")).to_have_value("staff")
        form.locator("input[name=unit_leader]").fill("quan\u200bly")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator("[role=alert]").first).to_be_visible()
        both_sizes(admin, "02-role-mapping-refused")
        assert ConnectedSystem.objects.get(pk=target.pk).role_mapping == {"officer": "staff"}
        form = page.locator("[data-testid=role-mapping-form]")
        form.locator("input[name=unit_leader]").fill("quan-ly")
        form.locator("input[name=officer]").fill("can-bo")
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(page.locator("body")).to_contain_text("officer → can-bo")
        expect(page.locator("body")).to_contain_text("Đã lưu bảng đối chiếu vai trò; 1 tài khoản được gửi lại")
        both_sizes(admin, "03-role-mapping-saved")
        assert ConnectedSystem.objects.get(pk=target.pk).role_mapping == {"officer": "can-bo", "unit_leader": "quan-ly"}
        admin.assert_clean(allowed=(r"^400 POST .*/admin/systems/\d+/role-mapping/$",))
    finally:
        server.stop()
