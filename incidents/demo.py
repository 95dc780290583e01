"""The demo's sample incident (seed_demo): a suspected password leak at demo.officer's ward, reported by
demo.officer and triaged by demo.admin — not contained, so that the demo accounts keep working.
Idempotent: keyed by its source."""
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .choices import IncidentCategory, Severity
from .models import Incident
from .services.records import incident_note_add, incident_report, incident_triage

SOURCE_KEY = "demo:password-leak-bien-hoa"


@transaction.atomic
def demo_incident_seed() -> bool:
    """True when the sample incident was created now."""
    if Incident.objects.filter(source_key=SOURCE_KEY).exists():
        return False
    officer = User.objects.filter(username="demo.officer").select_related("unit").first()
    admin = User.objects.filter(username="demo.admin").first()
    if officer is None or admin is None:
        return False
    incident = incident_report(
        actor=officer, source_key=SOURCE_KEY, title="Nghi lộ mật khẩu tài khoản bộ phận một cửa",
        category=IncidentCategory.PASSWORD_LEAK, discovered_at=timezone.now() - timedelta(hours=6),
        description="Mật khẩu tài khoản được ghi trên giấy dán ở màn hình máy tính tại bộ phận một cửa.",
        units=[officer.unit], systems=["Hệ thống thông tin giải quyết thủ tục hành chính tỉnh"])
    incident_triage(actor=admin, incident=incident, severity=Severity.MEDIUM, category=incident.category,
                    handler=admin, note="Liên hệ đơn vị để xác minh.")
    incident_note_add(actor=admin, incident=incident,
                      text="Đã gọi điện cho lãnh đạo phường; chưa thấy dấu hiệu đăng nhập lạ.")
    return True
