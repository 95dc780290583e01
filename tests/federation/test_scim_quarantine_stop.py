"""A SCIM target quarantined for four weeks has its deliveries stopped by the daily job (Entra's rule):
kept, not sent, alerted to the IT Center once, shown on the registry; an IT admin resumes them. And the
on-demand reconciliation runs as a task (the system page's button queues it)."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from accounts.services.lifecycle import account_create
from audit.choices import EventKind
from audit.models import SecurityEvent
from federation.choices import DeliveryState, SystemKind
from federation.models import ConnectedSystem, Delivery, Reconciliation
from federation.propagation import account_changed, deliveries_due, deliveries_send
from federation.services import system_register_target
from federation.targets import QUARANTINE_STOP_AFTER, system_deliveries_resume, systems_quarantine_expire
from federation.tasks import deliver_due, quarantine_expire
from notifications.alerts import alerts_send
from notifications.models import Notice
from portal.actors import COMMAND_LINE, SystemActor
from portal.errors import NotAllowed, PolicyViolation

from ..helpers import ScimServer, login, run_concurrently


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


def _target(units, scim_server, name="Một cửa Biên Hòa", unit="bien_hoa"):
    return system_register_target(actor=COMMAND_LINE, name=name, unit=units[unit], kind=SystemKind.SCIM,
                                  scim_url=scim_server.url, scim_token=ScimServer.TOKEN)


@pytest.fixture
def target(units, scim_server):
    return _target(units, scim_server)


@pytest.fixture
def quarantined(units, target):
    """Quarantined four weeks and a minute ago, with one officer's push waiting (failed five times)."""
    account_create(actor=COMMAND_LINE, username="cb.tanphong2", full_name="Đặng Thu Hà", unit=units["tan_phong"],
                   role=Role.OFFICER)
    Delivery.objects.filter(system=target).update(attempts=5, last_error="RequestNetworkException: refused",
                                                  next_at=timezone.now() + timedelta(days=1))
    ConnectedSystem.objects.filter(pk=target.pk).update(
        quarantined_at=timezone.now() - QUARANTINE_STOP_AFTER - timedelta(minutes=1),
        quarantine_alerted_at=timezone.now() - QUARANTINE_STOP_AFTER)
    return target


def test_the_daily_job_stops_a_target_quarantined_four_weeks_once(quarantined, units, scim_server):
    recent = _target(units, scim_server, name="Hộ tịch Biên Hòa")
    ConnectedSystem.objects.filter(pk=recent.pk).update(
        quarantined_at=timezone.now() - QUARANTINE_STOP_AFTER + timedelta(hours=1))
    assert quarantine_expire() == ["Một cửa Biên Hòa"]
    quarantined.refresh_from_db()
    recent.refresh_from_db()
    assert quarantined.deliveries_stopped_at is not None and recent.deliveries_stopped_at is None
    event = SecurityEvent.objects.get(kind=EventKind.SYSTEM_DELIVERIES_STOPPED)
    assert (event.actor_username, event.details["system"], event.details["deliveries_kept"]) == (
        "system:quarantine_job", "Một cửa Biên Hòa", 1)
    assert quarantine_expire() == []
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_DELIVERIES_STOPPED).count() == 1


def test_a_stopped_targets_deliveries_are_kept_and_not_sent(quarantined, units, scim_server):
    quarantine_expire()
    waiting = Delivery.objects.get(system=quarantined)
    Delivery.objects.filter(pk=waiting.pk).update(next_at=timezone.now())
    other = _target(units, scim_server, name="Hộ tịch Biên Hòa")
    assert account_changed(account=waiting.account, reason="provisioning", only_system=other) == 1
    assert deliveries_due() == list(Delivery.objects.filter(system=other).values_list("pk", flat=True))
    assert deliveries_send([waiting.pk]) == {"delivered": 0, "retrying": 0, "failed": 0}
    waiting.refresh_from_db()
    assert (waiting.state, waiting.attempts) == (DeliveryState.READY, 5)
    assert deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}  # the other target's push only
    assert Delivery.objects.get(pk=waiting.pk).state == DeliveryState.READY


def test_the_it_center_is_alerted_once(quarantined, it_admin):
    quarantine_expire()
    alerted = Notice.objects.filter(pk__in=alerts_send(), context__source="systems_deliveries_stopped")
    stopped_at = ConnectedSystem.objects.get(pk=quarantined.pk).deliveries_stopped_at
    assert [notice.context["lines"] for notice in alerted] == [
        [f"Một cửa Biên Hòa ({quarantined.unit.code}) từ {timezone.localtime(stopped_at):%d/%m/%Y %H:%M}"]]
    assert Notice.objects.filter(pk__in=alerts_send(), context__source="systems_deliveries_stopped").count() == 0


def test_the_pages_show_it_and_an_it_admin_resumes(admin_client, quarantined, scim_server):
    quarantine_expire()
    registry = admin_client.get("/admin/systems/")
    assert 'data-testid="deliveries-stopped"' in registry.content.decode()
    page = admin_client.get(f"/admin/systems/{quarantined.pk}/")
    assert 'data-testid="deliveries-stopped"' in page.content.decode()
    assert f'action="/admin/systems/{quarantined.pk}/resume/"' in page.content.decode()
    resumed = admin_client.post(f"/admin/systems/{quarantined.pk}/resume/")
    assert resumed.status_code == 302
    quarantined.refresh_from_db()
    assert (quarantined.deliveries_stopped_at, quarantined.quarantined_at) == (None, None)
    assert SecurityEvent.objects.get(kind=EventKind.SYSTEM_DELIVERIES_RESUMED).details["deliveries_sent"] == 1
    assert deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert scim_server.users()["cb.tanphong2"].active is True
    again = admin_client.post(f"/admin/systems/{quarantined.pk}/resume/", follow=True)
    assert "Việc gửi thay đổi đến hệ thống này không bị ngừng." in again.content.decode()
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_DELIVERIES_RESUMED).count() == 1


def test_a_target_still_down_after_resuming_is_quarantined_again_at_its_next_failure(quarantined, it_admin,
                                                                                    scim_server):
    quarantine_expire()
    scim_server.stop()
    system_deliveries_resume(actor=it_admin, system=quarantined)
    assert deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    quarantined.refresh_from_db()
    assert quarantined.quarantined_at is not None and quarantined.deliveries_stopped_at is None
    assert Delivery.objects.get(system=quarantined).next_at > timezone.now() + timedelta(hours=23)


def test_only_an_it_admin_resumes_and_only_the_job_or_it_center_stops(client, quarantined, inspector,
                                                                      leader_bien_hoa):
    quarantine_expire()
    for person in (inspector, leader_bien_hoa):
        login(client, person)
        assert client.post(f"/admin/systems/{quarantined.pk}/resume/").status_code == 403
    with pytest.raises(NotAllowed):
        system_deliveries_resume(actor=SystemActor("quarantine_job"), system=quarantined)
    with pytest.raises(NotAllowed):
        systems_quarantine_expire(actor=SystemActor("reconcile_job"))
    with pytest.raises(NotAllowed):
        systems_quarantine_expire(actor=leader_bien_hoa)
    assert ConnectedSystem.objects.get(pk=quarantined.pk).deliveries_stopped_at is not None


def test_a_target_not_stopped_cannot_be_resumed(target, it_admin):
    with pytest.raises(PolicyViolation) as refused:
        system_deliveries_resume(actor=it_admin, system=target)
    assert refused.value.code == "not_stopped"


@pytest.mark.django_db(transaction=True)
def test_two_jobs_at_once_stop_and_audit_a_target_once(quarantined):
    outcomes = run_concurrently(lambda: systems_quarantine_expire(actor=SystemActor("quarantine_job")),
                                lambda: systems_quarantine_expire(actor=SystemActor("quarantine_job")))
    assert sorted(outcomes, key=len) == [[], ["Một cửa Biên Hòa"]]
    assert SecurityEvent.objects.filter(kind=EventKind.SYSTEM_DELIVERIES_STOPPED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_reconcile_button_queues_a_job_that_a_worker_runs(admin_client, it_admin, target, scim_server,
                                                              celery_worker):
    answer = admin_client.post(f"/admin/systems/{target.pk}/reconcile/", follow=True)
    assert answer.status_code == 200
    assert "Đã bắt đầu đối soát" in answer.content.decode()
    deadline = time.monotonic() + 60
    while not Reconciliation.objects.filter(system=target).exists():
        assert time.monotonic() < deadline, "the worker did not reconcile the target"
        time.sleep(0.2)
    report = Reconciliation.objects.get(system=target)
    assert (report.started_by_name, report.error, report.users_read) == (it_admin.username, "", 0)


def test_the_task_refuses_a_requester_no_longer_an_it_admin(target, it_admin):
    from federation.tasks import reconcile_system

    it_admin.role = Role.OFFICER
    it_admin.save(update_fields=["role"])
    with pytest.raises(NotAllowed):
        reconcile_system(target.pk, it_admin.pk)
    assert not Reconciliation.objects.exists()
    assert reconcile_system(target.pk + 1000) is None
