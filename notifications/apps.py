from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Infrastructure: a failed Celery job is recorded for the IT Center's alerts.
        from . import receivers  # noqa: F401

    def audit_detail_labels(self):
        """How the audit log names this app's fields and values in an event's details."""
        from .choices import NoticeKind

        return {"notice": _("Notification"), "notice_kind": _("Kind of notification")}, {"notice_kind": NoticeKind}
