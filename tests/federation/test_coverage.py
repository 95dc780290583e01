"""Coverage on the dashboards: per unit (its subtree), the accounts present in the systems that keep their
own accounts (a real SCIM server and a manual target), the orphans the last reconciliation found, the
deliveries failing; a leader sees only their subtree; the IT Center's home lists the systems in quarantine."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, ManualTask
from federation.propagation import MAX_ATTEMPTS, deliveries_send
from federation.reconcile import system_reconcile
from federation.selectors import systems_coverage, systems_in_quarantine
from federation.services import manual_task_complete, system_provision_all, system_register_target
from portal.actors import COMMAND_LINE

from ..helpers import ScimServer, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def targets(units, scim_server, leader_bien_hoa, officer_bien_hoa, officer_long_khanh):
    """A SCIM target and a manual target of Biên Hòa, both provisioned: the SCIM pushes delivered, the
    manual target's task done for the officer of Tân Phong only (the leader's still open)."""
    scim = system_register_target(actor=COMMAND_LINE, name="Hộ tịch Biên Hòa", unit=units["bien_hoa"],
                                  kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN)
    manual = system_register_target(actor=COMMAND_LINE, name="Phần mềm kế toán", unit=units["bien_hoa"],
                                    kind=SystemKind.MANUAL)
    system_provision_all(actor=COMMAND_LINE, system=scim)
    assert _send() == {"delivered": 2, "retrying": 0, "failed": 0}
    manual_task_complete(actor=COMMAND_LINE, task=ManualTask.objects.get(account=officer_bien_hoa),
                         note="Đã tạo tài khoản", evidence=SimpleUploadedFile("tao.png", PNG))
    return {"scim": scim, "manual": manual}


def _send() -> dict:
    ids = Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY).values_list("pk", flat=True)
    return deliveries_send(list(ids))


def _figures(rows) -> dict:
    return {row.unit_name: (row.present, row.expected, row.orphans, row.failing) for row in rows}


def _plant_orphan(scim_server):
    import httpx2

    with httpx2.Client(base_url=scim_server.url, headers={"Authorization": f"Bearer {ScimServer.TOKEN}",
                                                          "Content-Type": "application/scim+json"}) as http:
        answer = http.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                          "userName": "ghost.admin", "active": True})
    assert answer.status_code == 201


def test_figures_per_unit(units, targets, scim_server, officer_bien_hoa):
    bien_hoa, tan_phong, long_khanh = units["bien_hoa"], units["tan_phong"], units["long_khanh"]
    # Biên Hòa's subtree: its leader and Tân Phong's officer, each owed by both targets; the leader's
    # manual task is still open. Long Khánh is in no target's subtree.
    assert _figures(systems_coverage([bien_hoa.pk, tan_phong.pk, long_khanh.pk])) == {
        bien_hoa.name: (3, 4, 0, 0), tan_phong.name: (2, 2, 0, 0), long_khanh.name: (0, 0, 0, 0)}

    _plant_orphan(scim_server)
    report = system_reconcile(actor=COMMAND_LINE, system=targets["scim"])
    assert (report.error, report.orphans) == ("", 1)
    # The target is down while the officer's name changes: the push waits and retries (failing).
    scim_server.stop()
    from accounts.services.lifecycle import account_update

    account_update(actor=COMMAND_LINE, account=officer_bien_hoa, values={"full_name": "Phạm Thị Hương Lan"})
    assert _send() == {"delivered": 0, "retrying": 1, "failed": 0}
    # An orphan unknown here counts in the target's unit; the failing push in the officer's.
    assert _figures(systems_coverage([bien_hoa.pk, tan_phong.pk])) == {
        bien_hoa.name: (3, 4, 1, 1), tan_phong.name: (2, 2, 0, 1)}


def test_the_coverage_costs_the_same_queries_for_one_or_three_units(units, targets, django_assert_num_queries):
    systems_coverage([units["tan_phong"].pk])  # warm the contained units' cache
    # Units, targets, accounts, SCIM holdings, manual tasks, reconciliations, orphans' accounts, deliveries.
    with django_assert_num_queries(8) as few:
        systems_coverage([units["tan_phong"].pk])
    with django_assert_num_queries(len(few.captured_queries)):
        systems_coverage([units["province"].pk, units["bien_hoa"].pk, units["tan_phong"].pk])


def test_a_leader_sees_the_coverage_of_their_subtree_only(units, targets, leader_bien_hoa, officer_long_khanh):
    client = login(Client(), leader_bien_hoa)
    home = client.get(reverse("home"))
    assert home.status_code == 200
    rows = home.context["coverage"]
    assert [row.unit_name for row in rows] == [units["bien_hoa"].name, units["tan_phong"].name]
    page = home.content.decode()
    assert 'data-testid="coverage"' in page and "Tài khoản đã có trên hệ thống cần có" in page
    assert units["long_khanh"].name not in [row.unit_name for row in rows]
    assert client.get(reverse("compliance:unit", args=[units["long_khanh"].pk])).status_code == 404
    assert 'data-testid="quarantine"' not in page


def test_the_it_centers_home_lists_the_systems_in_quarantine(units, targets, scim_server, it_admin, leader_bien_hoa,
                                                              officer_bien_hoa):
    from accounts.services.lifecycle import account_update

    scim_server.stop()
    account_update(actor=COMMAND_LINE, account=officer_bien_hoa, values={"full_name": "Phạm Thị Hương Lan"})
    Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY).update(attempts=MAX_ATTEMPTS - 1)
    assert _send() == {"delivered": 0, "retrying": 1, "failed": 0}
    quarantined = ConnectedSystem.objects.get(pk=targets["scim"].pk)
    assert quarantined.quarantined_at is not None
    assert [(system.name, system.waiting) for system in systems_in_quarantine()] == [("Hộ tịch Biên Hòa", 1)]

    admin_home = login(Client(), it_admin).get(reverse("home"))
    assert [system.name for system in admin_home.context["quarantined"]] == ["Hộ tịch Biên Hòa"]
    page = admin_home.content.decode()
    assert 'data-testid="quarantine"' in page and "Hệ thống kết nối đang bị cách ly" in page
    # A leader's home is not the IT Center's: no quarantine list there.
    leader_home = login(Client(), leader_bien_hoa).get(reverse("home"))
    assert "quarantined" not in leader_home.context and 'data-testid="quarantine"' not in leader_home.content.decode()
