"""A connected system down (docs/faults.md): a relying party's back-channel logout endpoint answering
503, a SCIM target (a real scim2-server) refusing connections. The deliveries are retried, shown on the
account page, and delivered once when the system is back. A real worker (tests/worker.py) sends them."""
import pytest
from django.test import Client
from django.utils import timezone

from accounts.services.lifecycle import account_create, account_disable
from federation.choices import DeliveryKind, DeliveryState, SystemKind
from federation.models import Delivery
from federation.services import system_register_target
from federation.tasks import deliver_due
from portal.actors import COMMAND_LINE
from tests.federation.test_backchannel import _sign_in
from tests.helpers import LogoutReceiver, ScimServer, login, oidc_system_register


@pytest.fixture
def receiver():
    server = LogoutReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def scim_server():
    server = ScimServer().start()
    yield server
    server.stop()


def _swept(worker):
    Delivery.objects.exclude(state=DeliveryState.DELIVERED).update(next_at=timezone.now())  # retry due now
    worker.send(deliver_due)
    worker.wait_idle()


@pytest.mark.django_db(transaction=True)
def test_a_relying_party_down_is_retried_shown_and_delivered_once_when_back(celery_worker, receiver, units,
                                                                           officer_bien_hoa, admin_client):
    system, secret = oidc_system_register(units["bien_hoa"], name="Một cửa", backchannel_logout_uri=receiver.url)
    _sign_in(login(Client(), officer_bien_hoa), system, secret)  # signed in there through the portal
    receiver.status = 503
    account_disable(actor=COMMAND_LINE, account=officer_bien_hoa, reason="Chuyển công tác")
    celery_worker.wait_idle()
    rows = Delivery.objects.filter(account=officer_bien_hoa)  # the session's logout and "all sessions"
    assert set(rows.values_list("state", "attempts", "last_error")) == {(DeliveryState.READY, 1, "HTTP 503")}
    assert rows.count() == 2
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/").content.decode()
    assert "Đã đăng xuất khỏi 0/1 hệ thống" in page

    _swept(celery_worker)  # still down: retried again, kept
    assert set(rows.values_list("attempts", flat=True)) == {2} and receiver.tokens == []

    receiver.status = 200
    _swept(celery_worker)
    _swept(celery_worker)  # a second sweep sends nothing twice
    assert len(receiver.tokens) == 2
    assert set(rows.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    page = admin_client.get(f"/admin/accounts/{officer_bien_hoa.pk}/").content.decode()
    assert "Đã đăng xuất khỏi 1/1 hệ thống" in page


@pytest.mark.django_db(transaction=True)
def test_a_scim_target_down_is_retried_and_deactivates_the_account_once_when_back(celery_worker, scim_server, units):
    system_register_target(actor=COMMAND_LINE, name="Hộ tịch Biên Hòa", unit=units["bien_hoa"], kind=SystemKind.SCIM,
                           scim_url=scim_server.url, scim_token=ScimServer.TOKEN, role_mapping={"officer": "staff"})
    account, _password, _record = account_create(actor=COMMAND_LINE, username="cb.scimdown", full_name="Đỗ Thị Lan",
                                        email="cb.scimdown@dongnai.gov.vn", unit=units["tan_phong"], role="officer")
    celery_worker.wait_idle()
    assert scim_server.users()["cb.scimdown"].active is True

    scim_server.stop()
    account_disable(actor=COMMAND_LINE, account=account, reason="Thôi việc")
    celery_worker.wait_idle()
    pending = Delivery.objects.filter(account=account, kind=DeliveryKind.SCIM_PUSH).exclude(state=DeliveryState.DELIVERED)
    row = pending.get()
    assert (row.state, row.attempts) == (DeliveryState.READY, 1) and row.last_error

    scim_server.start()  # same port, same storage
    _swept(celery_worker)
    _swept(celery_worker)
    assert scim_server.users()["cb.scimdown"].active is False
    assert Delivery.objects.get(pk=row.pk).state == DeliveryState.DELIVERED
