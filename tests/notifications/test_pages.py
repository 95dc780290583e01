"""The bell in the header, one's own notifications (list, mark read), the choice for optional notices,
and the IT Center's failed notices (only it_admin)."""
import pytest

from notifications.choices import DeliveryState, NoticeKind
from notifications.models import Notice, NotificationPreference
from notifications.outbox import notice_enqueue
from tests.helpers import login


def _notice(account, key, kind=NoticeKind.ACCOUNT_LOCKED, **context):
    return notice_enqueue(recipient=account, kind=kind, source_key=key, context={"minutes": 15, **context})


@pytest.mark.django_db
def test_the_bell_shows_the_unread_count_in_the_header(client, officer_bien_hoa):
    _notice(officer_bien_hoa, "event:1")
    _notice(officer_bien_hoa, "event:2")
    page = login(client, officer_bien_hoa).get("/").content.decode()
    assert '<span class="bell-count">2</span>' in page
    Notice.objects.filter(recipient=officer_bien_hoa).update(read_at="2026-01-01T00:00:00Z")
    assert "bell-count" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_list_shows_only_ones_own_notices(client, officer_bien_hoa, officer_long_khanh):
    _notice(officer_bien_hoa, "event:1")
    _notice(officer_long_khanh, "event:2", kind=NoticeKind.NEW_SIGNIN_ADDRESS, address="198.51.100.9")
    page = login(client, officer_bien_hoa).get("/notifications/").content.decode()
    assert "Tài khoản của bạn đã bị khóa sau nhiều lần đăng nhập sai" in page
    assert "198.51.100.9" not in page


@pytest.mark.django_db
def test_marking_read_touches_only_ones_own_notices(client, officer_bien_hoa, officer_long_khanh):
    own = _notice(officer_bien_hoa, "event:1")
    others = _notice(officer_long_khanh, "event:2")
    login(client, officer_bien_hoa)
    response = client.post("/notifications/read/", {"notice": [own, others]})
    assert response.status_code == 302
    assert Notice.objects.get(pk=own).read_at is not None
    assert Notice.objects.get(pk=others).read_at is None


@pytest.mark.django_db
def test_mark_all_read(client, officer_bien_hoa):
    for index in range(3):
        _notice(officer_bien_hoa, f"event:{index}")
    login(client, officer_bien_hoa).post("/notifications/read/", {"all": "1"})
    assert Notice.objects.filter(recipient=officer_bien_hoa, read_at__isnull=True).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("posted", [{}, {"notice": "abc"}, {"notice": "1; DROP TABLE"}])
def test_marking_read_with_bad_input_changes_nothing(client, officer_bien_hoa, posted):
    _notice(officer_bien_hoa, "event:1")
    response = login(client, officer_bien_hoa).post("/notifications/read/", posted, follow=True)
    assert response.status_code == 200
    assert "Hãy chọn các thông báo cần đánh dấu đã đọc." in response.content.decode()
    assert Notice.objects.filter(read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_the_holder_chooses_in_app_only_for_optional_notices(client, officer_bien_hoa):
    login(client, officer_bien_hoa)
    assert client.get("/notifications/preferences/").status_code == 200
    response = client.post("/notifications/preferences/", {"optional": "in_app"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(account=officer_bien_hoa).optional_by_email is False
    bad = client.post("/notifications/preferences/", {"optional": "sms"})
    assert bad.status_code == 200
    assert "Hãy chọn một trong hai cách." in bad.content.decode()
    assert NotificationPreference.objects.get(account=officer_bien_hoa).optional_by_email is False


@pytest.mark.django_db
def test_failed_notices_are_the_it_centers_only(client, officer_bien_hoa, leader_bien_hoa, inspector):
    for user in (officer_bien_hoa, leader_bien_hoa, inspector):
        assert login(client, user).get("/notifications/failed/").status_code == 403
        assert client.post("/notifications/failed/", {"notice": ["1"]}).status_code == 403


@pytest.mark.django_db
def test_resending_audits_and_a_second_click_resends_nothing(admin_client, officer_bien_hoa):
    from audit.choices import EventKind
    from audit.models import SecurityEvent

    notice_id = _notice(officer_bien_hoa, "event:1")
    Notice.objects.filter(pk=notice_id).update(email_state=DeliveryState.FAILED, attempts=5, last_error="SMTPError")
    page = admin_client.get("/notifications/failed/").content.decode()
    assert officer_bien_hoa.email in page and "SMTPError" in page
    response = admin_client.post("/notifications/failed/", {"notice": [notice_id]}, follow=True)
    assert "Sẽ gửi lại 1 thông báo." in response.content.decode()
    notice = Notice.objects.get(pk=notice_id)
    assert (notice.email_state, notice.attempts) == (DeliveryState.READY, 0)
    assert SecurityEvent.objects.filter(kind=EventKind.NOTICE_RESENT, target=officer_bien_hoa).count() == 1
    again = admin_client.post("/notifications/failed/", {"notice": [notice_id]}, follow=True)
    assert "Các thông báo này không còn ở trạng thái thất bại" in again.content.decode()
    assert SecurityEvent.objects.filter(kind=EventKind.NOTICE_RESENT).count() == 1
