"""Every message is a template triple built by one function, in Vietnamese with the English text as
its fallback, and never holds a password, a one-time password or a citizen ID."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.choices import NoticeKind
from notifications.messages import message_build, notice_email, notice_message
from notifications.models import Notice
from tests.factories import DEFAULT_PASSWORD

CONTEXTS = {
    NoticeKind.PASSWORD_EXPIRY: {"threshold": 3},
    NoticeKind.ACCOUNT_LOCKED: {"address": "203.0.113.5", "minutes": 15},
    NoticeKind.ONE_TIME_PASSWORD_ISSUED: {"reason": "reset", "handover_record": "0012/BB-TTCNTT", "issued_by": "Nguyễn Văn Hùng"},
    NoticeKind.TURNOVER_EXECUTED: {"letter": "12/UBND-VP", "unit_name": "UBND phường Tân Phong", "action": "disable",
                                   "outcome": "đã vô hiệu hoá"},
    NoticeKind.NEW_SIGNIN_ADDRESS: {"address": "198.51.100.4"},
    NoticeKind.DORMANT_ACCOUNTS_DISABLED: {"unit_name": "UBND phường Tân Phong", "unit_code": "000.01.31.H19",
                                           "usernames": ["cb.a", "cb.b"], "days": 45},
    NoticeKind.RECERTIFICATION_REMINDER: {"campaign": "Đợt 1/2026", "items_left": 4, "days_before": 3},
    NoticeKind.LEADER_DIGEST: {"week": "2026-W49", "unit_name": "UBND thành phố Biên Hòa", "grace_days": 14,
                               "figures": {"expiring": 1, "expired": 2, "locked": 0, "dormant": 3,
                                           "one_time_unused": 0, "requests_pending": 1},
                               "escalated": [{"name": "UBND phường Tân Phong", "code": "000.01.31.H19", "accounts": 2}]},
    NoticeKind.IT_ALERT: {"source": "failed_jobs", "title": "Tác vụ nền bị lỗi", "lines": ["x"], "link": ""},
    NoticeKind.IT_DAILY: {"day": "01/12/2026", "sections": [{"heading": "Thông báo", "lines": ["Thư đã gửi: 3"]}]},
    NoticeKind.DIRECTIVE: {"directive_number": "5722/TCTTKĐA", "directive_title": "Quy định kết nối CSDLQG về dân cư",
                           "directive_url": "http://127.0.0.1:8000/letter/directives/1/", "stage": "before",
                           "days_left": 3},
}


def _notice(account, kind):
    context = dict(CONTEXTS[kind])
    threshold = context.pop("threshold", None)
    return Notice.objects.create(recipient=account, kind=kind, source_key="k", context=context, threshold=threshold,
                                 deadline=timezone.now() + timedelta(days=3), email_to=account.email)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_each_message_renders_in_vietnamese_and_in_english(officer_bien_hoa, kind):
    notice = _notice(officer_bien_hoa, kind)
    vietnamese = notice_message(notice)
    assert vietnamese.text.startswith("Kính gửi Phạm Thị Hương,")
    assert "\n" not in vietnamese.subject and vietnamese.subject
    assert "<p>Kính gửi Phạm Thị Hương,</p>" in vietnamese.html
    for part in (vietnamese.subject, vietnamese.text, vietnamese.html):
        assert "{{" not in part and "{%" not in part and "&amp;#" not in part
    english = message_build(kind, {**notice.context, "recipient": officer_bien_hoa, "threshold": notice.threshold,
                                   "deadline": notice.deadline, "created_at": notice.created_at}, language="en")
    assert english.text.startswith("Dear Phạm Thị Hương,")
    assert english.subject != vietnamese.subject


@pytest.mark.django_db
def test_the_plain_text_is_not_html_escaped(officer_bien_hoa):
    notice = _notice(officer_bien_hoa, NoticeKind.TURNOVER_EXECUTED)
    notice.context["unit_name"] = "UBND \"Tân Phong\" & <phường>"
    message = notice_message(notice)
    assert 'UBND "Tân Phong" & <phường>' in message.text
    assert "UBND &quot;Tân Phong&quot; &amp; &lt;phường&gt;" in message.html


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_no_message_holds_a_password_or_a_citizen_id(officer_bien_hoa, kind):
    email = notice_email(_notice(officer_bien_hoa, kind))
    text = email.subject + email.body + email.alternatives[0][0]
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", text)
    assert DEFAULT_PASSWORD not in text and officer_bien_hoa.password not in text
    assert email.extra_headers["Message-ID"].startswith("<notice-")
