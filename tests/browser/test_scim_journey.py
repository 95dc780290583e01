"""The IT Center's pages for systems that keep their own accounts, in headless Chromium: the registry
with a SCIM target (quarantined) and a manual target, a reconciliation started from the system's page
and turned into pushes, and a manual task refused with a bad evidence file then done with a PDF.
Screenshots at desktop and 390-pixel widths go to artifacts/."""
import time

import pytest
from playwright.sync_api import expect

from accounts.choices import Role
from accounts.services.lifecycle import account_create
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, ManualTask, Reconciliation
from federation.propagation import deliveries_send
from federation.services import system_register_target
from portal.actors import COMMAND_LINE
from tests.helpers import ScimServer, pdf_bytes

from .test_turnover_journey import both_sizes, signed_in

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_the_it_center_reconciles_a_target_and_closes_a_manual_task(journey, units, it_admin, settings, tmp_path,
                                                                    celery_worker):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    server = ScimServer().start()
    try:
        target = system_register_target(actor=COMMAND_LINE, name="Hệ thống Một cửa Biên Hòa", unit=units["bien_hoa"],
                                        kind=SystemKind.SCIM, scim_url=server.url, scim_token=ScimServer.TOKEN,
                                        role_mapping={"officer": "staff"})
        system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                               kind=SystemKind.MANUAL)
        for n in range(3):
            account_create(actor=COMMAND_LINE, username=f"cb.bh{n}", full_name=f"Cán bộ Biên Hòa {n}",
                           unit=units["tan_phong"], role=Role.OFFICER)
        deliveries_send(list(Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY)
                             .values_list("pk", flat=True)))
        import httpx2

        with httpx2.Client(base_url=server.url, headers={"Authorization": f"Bearer {ScimServer.TOKEN}"}) as http:
            http.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                     "userName": "ghost.admin", "active": True})

        admin = signed_in(journey("scim-admin"), it_admin)
        page = admin.page
        page.goto(admin.url(f"/admin/systems/{target.pk}/"))
        expect(page.locator("[data-testid=reconciliations]")).to_contain_text("Chưa đối soát lần nào.")
        with page.expect_navigation():
            page.click("[data-testid=reconcile]")
        # The button queues federation.reconcile_system; the worker reads the target, the page lists the report.
        expect(page.locator("body")).to_contain_text("Đã bắt đầu đối soát")
        deadline = time.monotonic() + 60
        while not Reconciliation.objects.filter(system=target).exists():
            assert time.monotonic() < deadline, "the worker did not reconcile the target"
            time.sleep(0.2)
        page.reload()
        with page.expect_navigation():
            page.locator("[data-testid=reconciliations] a").first.click()
        expect(page.locator("h1")).to_contain_text("Đối soát lúc")
        expect(page.locator("[data-testid=finding]")).to_have_count(1)
        expect(page.locator("[data-testid=finding]")).to_contain_text("ghost.admin")
        expect(page.locator("[data-testid=finding]")).to_contain_text("(không có trên cổng)")
        both_sizes(admin, "01-reconciliation")

        ConnectedSystem.objects.filter(pk=target.pk).update(quarantined_at="2026-12-01T08:00:00+07:00")
        page.goto(admin.url("/admin/systems/"))
        expect(page.locator("[data-testid=quarantined]")).to_have_text("Bị cách ly")
        both_sizes(admin, "02-registry")

        page.goto(admin.url("/admin/systems/tasks/"))
        tasks = page.locator("[data-testid=manual-task]")
        expect(tasks).to_have_count(3)
        first = tasks.first
        expect(first).to_contain_text("Tạo tài khoản cb.bh0 (Cán bộ Biên Hòa 0) trên hệ thống Phần mềm kế toán")
        first.locator("textarea").fill("Đã tạo tài khoản trên phần mềm kế toán")
        first.locator("input[type=file]").set_input_files(files=[{"name": "bien-ban.pdf", "mimeType": "application/pdf",
                                                                   "buffer": b"<html>not a pdf</html>"}])
        with page.expect_navigation():
            first.locator("button[type=submit]").click()
        expect(page.locator("[data-testid=manual-task]").first).to_contain_text("PDF")
        both_sizes(admin, "03-task-bad-evidence")
        first = page.locator("[data-testid=manual-task]").first
        first.locator("textarea").fill("Đã tạo tài khoản trên phần mềm kế toán")
        first.locator("input[type=file]").set_input_files(files=[{"name": "bien-ban.pdf", "mimeType": "application/pdf",
                                                                   "buffer": pdf_bytes()}])
        with page.expect_navigation():
            first.locator("button[type=submit]").click()
        expect(page.locator("[data-testid=manual-task]")).to_have_count(2)
        expect(page.locator("[data-testid=manual-tasks-done]")).to_contain_text("Đã tạo tài khoản trên phần mềm kế toán")
        both_sizes(admin, "04-task-done")
        assert ManualTask.objects.exclude(done_at=None).count() == 1
        admin.assert_clean(allowed=(r"^400 POST .*/admin/systems/tasks/\d+/done/$",))
    finally:
        server.stop()
