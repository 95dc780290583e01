"""Issue 22 as the people read it: the inspector's seals page after a chain was cut by someone holding
the database, and a ward leader's view of an account's history (the city leader and the IT Center named
by role, no addresses) — desktop and 390 px. Screenshots under artifacts/ (sealsec-*.png)."""
import pytest
from django.urls import reverse

from accounts.choices import Role
from audit.choices import EventKind
from audit.sealing import seals_run, table_seal
from audit.services import audit_event_record
from portal.audit_context import audit_context
from tests.audit.seal_helpers import lookup_records, replication_role, verify_command
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers import totp_enrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LOOKUPS = "lookups_lookuprecord"


def _sign_in(person, user, device=None):
    page = person.page
    page.goto(person.url(reverse("login")))
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    if device is not None:
        person.second_step(device)


def test_the_inspector_reads_a_cut_chain_on_the_seals_page(journey, units, inspector):
    lookup_records(3)
    seals_run()
    lookup_records(2)
    table_seal(LOOKUPS)
    with replication_role() as cursor:
        cursor.execute("DELETE FROM audit_seal WHERE table_name = %s AND position = 2", [LOOKUPS])
    verify_command()
    person = journey("sealsec-inspector")
    _sign_in(person, inspector, totp_enrol(inspector))
    page = person.page
    for size, viewport in (("desktop", {"width": 1280, "height": 860}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(person.url(reverse("audit:seals")))
        problem = page.get_by_test_id("first-problem").inner_text()
        assert problem == ("Niêm phong số 2 của nhật ký tra cứu, đã lưu ngoài cơ sở dữ liệu, không còn trong chuỗi: "
                           "chuỗi đã bị cắt.")
        assert page.evaluate("document.documentElement.scrollWidth") == viewport["width"]
        person.screenshot(f"seals-{size}")
    person.assert_clean()


def test_a_ward_leader_reads_an_accounts_history_without_the_names_above(journey, units, it_admin,
                                                                         leader_bien_hoa):
    ward_leader = UserFactory(username="ld.tanphong", role=Role.UNIT_LEADER, unit=units["tan_phong"])
    officer = UserFactory(username="cb.tanphong2", full_name="Trần Thị Hoa", role=Role.OFFICER,
                          unit=units["tan_phong"])
    for kind, actor, address in ((EventKind.LOGIN_SUCCESS, officer, "10.0.0.5"),
                                 (EventKind.PASSWORD_RESET, it_admin, "172.16.1.9"),
                                 (EventKind.ACCOUNT_DISABLED, leader_bien_hoa, "172.16.2.7")):
        with audit_context(ip_address=address):
            audit_event_record(kind=kind, actor=actor, target=officer)
    person = journey("sealsec-ward-leader")
    _sign_in(person, ward_leader)
    page = person.page
    for size, viewport in (("desktop", {"width": 1280, "height": 860}), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.goto(person.url(reverse("compliance:account", args=[officer.pk])))
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        for hidden in (it_admin.username, leader_bien_hoa.username, "172.16.1.9", "172.16.2.7"):
            assert hidden not in text
        assert "Lãnh đạo đơn vị ngoài phạm vi của bạn" in text and "Quản trị viên Trung tâm CNTT" in text
        assert "10.0.0.5" in text
        person.screenshot(f"history-{size}")
    person.assert_clean()
