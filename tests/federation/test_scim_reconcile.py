"""Reconciliation of a SCIM target against a real SCIM server: read page by page, a planted orphan (known
and unknown here), a planted drift and a missing account found, the report kept and exported, and its
findings turned into corrective pushes that leave only what the portal cannot fix."""
import csv
import io

import pytest
from django.core.management import call_command

from accounts.choices import Role
from accounts.models import User
from accounts.services.lifecycle import account_create
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import Delivery, Reconciliation
from federation.propagation import deliveries_send
from federation.reconcile import reconciliation_correct, system_reconcile
from federation.services import system_register_target
from federation.tasks import reconcile_system
from portal.actors import COMMAND_LINE
from portal.errors import PolicyViolation

from ..factories import UserFactory
from ..helpers import ScimServer


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def target(units, scim_server):
    return system_register_target(actor=COMMAND_LINE, name="Hộ tịch Biên Hòa", unit=units["bien_hoa"],
                                  kind=SystemKind.SCIM, scim_url=scim_server.url, scim_token=ScimServer.TOKEN,
                                  role_mapping={"officer": "staff"})


def _send():
    ids = Delivery.objects.filter(kind=DeliveryKind.SCIM_PUSH, state=DeliveryState.READY).values_list("pk", flat=True)
    return deliveries_send(list(ids))


def _http(scim_server):
    import httpx2

    return httpx2.Client(base_url=scim_server.url, headers={"Authorization": f"Bearer {ScimServer.TOKEN}",
                                                             "Content-Type": "application/scim+json"})


@pytest.fixture
def planted(units, target, scim_server):
    """Five accounts pushed; then, behind the portal's back: one disabled here without a push (a known
    orphan), one renamed on the target (a drift), a user made on the target (an unknown orphan), and an
    account of the subtree that was never pushed (missing)."""
    accounts = [account_create(actor=COMMAND_LINE, username=f"cb.bh{n}", full_name=f"Cán bộ Biên Hòa {n}",
                               unit=units["tan_phong"], role=Role.OFFICER)[0] for n in range(5)]
    assert _send()["delivered"] == 5
    User.objects.filter(pk=accounts[0].pk).update(is_active=False)  # no push: the target still has it active
    users = scim_server.users()
    with _http(scim_server) as http:
        renamed = http.patch(f"Users/{users['cb.bh1'].id}", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "displayName", "value": "Tên sửa tay"}]})
        assert renamed.status_code in (200, 204)
        ghost = http.post("Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                         "userName": "ghost.admin", "active": True})
        assert ghost.status_code == 201
    missing = UserFactory(username="cb.bh.moi", full_name="Cán bộ mới", unit=units["tan_phong"])
    return {"accounts": accounts, "missing": missing}


def _findings(report):
    return sorted((finding["kind"], finding["username"], tuple(sorted(finding["fields"].items())))
                  for finding in report.findings)


def test_reconciliation_over_several_pages_finds_orphans_drift_and_missing(units, target, planted, scim_server):
    report = system_reconcile(actor=COMMAND_LINE, system=target, page_size=2)
    assert (report.error, report.users_read) == ("", 6)
    assert _findings(report) == [
        ("drift", "cb.bh1", (("full_name", ["Tên sửa tay", "Cán bộ Biên Hòa 1"]),)),
        ("missing", "cb.bh.moi", ()),
        ("orphan", "cb.bh0", ()),
        ("orphan", "ghost.admin", ()),
    ]
    assert (report.orphans, report.drifts, report.missing) == (2, 1, 1)

    queued = reconciliation_correct(actor=COMMAND_LINE, report=report)
    assert queued == 3
    assert _send() == {"delivered": 3, "retrying": 0, "failed": 0}
    users = scim_server.users()
    assert (users["cb.bh0"].active, users["cb.bh1"].display_name, users["cb.bh.moi"].active) == (
        False, "Cán bộ Biên Hòa 1", True)
    with pytest.raises(PolicyViolation) as again:
        reconciliation_correct(actor=COMMAND_LINE, report=report)
    assert again.value.code == "already_corrected"

    after = system_reconcile(actor=COMMAND_LINE, system=target, page_size=2)
    assert _findings(after) == [("orphan", "ghost.admin", ())]  # unknown here: left for the system's admin
    assert Reconciliation.objects.filter(system=target).count() == 2


def test_a_target_down_gives_a_report_with_the_error(target, scim_server):
    scim_server.stop()
    report = system_reconcile(actor=COMMAND_LINE, system=target)
    assert report.error.startswith("RequestNetworkException") and report.findings == []


def test_command_page_csv_and_correct_button(admin_client, it_admin, target, planted, scim_server, capsys):
    call_command("reconcile_system", "Hộ tịch Biên Hòa")
    report = Reconciliation.objects.get()
    assert capsys.readouterr().out.strip() == (
        f"report {report.pk}: 6 users read; 2 orphans, 1 drifts, 1 missing")
    page = admin_client.get(f"/admin/systems/{target.pk}/")
    assert page.status_code == 200 and f"/admin/systems/reconciliations/{report.pk}/" in page.content.decode()
    answer = admin_client.post(f"/admin/systems/{target.pk}/reconcile/")
    assert answer.status_code == 302 and answer["Location"] == f"/admin/systems/{target.pk}/"
    # The button queues federation.reconcile_system (tests/federation/test_scim_quarantine_stop.py runs it
    # through a real worker); here the task runs in this process.
    newest = Reconciliation.objects.get(pk=reconcile_system(target.pk, it_admin.pk))
    assert newest.started_by_name == it_admin.username
    shown = admin_client.get(f"/admin/systems/reconciliations/{newest.pk}/")
    assert shown.status_code == 200 and shown.content.decode().count('data-testid="finding"') == 4
    exported = admin_client.get(f"/admin/systems/reconciliations/{newest.pk}/csv/")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["finding", "username", "target_id", "portal_account_id", "field", "on_target", "in_portal"]
    assert sorted((row[0], row[1], row[4]) for row in rows[1:]) == [
        ("drift", "cb.bh1", "full_name"), ("missing", "cb.bh.moi", ""), ("orphan", "cb.bh0", ""),
        ("orphan", "ghost.admin", "")]
    corrected = admin_client.post(f"/admin/systems/reconciliations/{newest.pk}/correct/")
    assert corrected.status_code == 302
    assert Reconciliation.objects.get(pk=newest.pk).corrections_queued == 3


def test_reports_are_404_outside_the_registry_readers(client, target, officer_bien_hoa):
    from ..helpers import login

    report = system_reconcile(actor=COMMAND_LINE, system=target)
    login(client, officer_bien_hoa)
    assert client.get(f"/admin/systems/reconciliations/{report.pk}/csv/").status_code in (403, 404)
