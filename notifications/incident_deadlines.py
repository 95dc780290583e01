"""Reminders before each incident deadline and an escalation after it, each once (the job of
incidents.tasks, every 15 minutes). The deadlines come from the IT Center's configured rules
(incidents.selectors: the version in force on the day of discovery); a reminder is keyed by the
incident and the obligation's code — stable across versions — so a change of the rules never sends the
same reminder twice. Before the deadline the handler and every IT admin are reminded; after it, every
IT admin and inspector is told it passed (the escalation). A met obligation is never reminded."""
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from incidents.selectors import open_incidents_with_rules

from .choices import NoticeKind
from .outbox import NoticeSpec, notices_enqueue

REMIND = "remind"
ESCALATE = "overdue"


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i")


def _phase(deadline, now) -> str | None:
    if deadline.met_at is not None or deadline.due_at is None:
        return None
    if now >= deadline.due_at:
        return ESCALATE
    if deadline.remind_at is not None and now >= deadline.remind_at:
        return REMIND
    return None


def incident_deadline_notices_send(*, now=None) -> list[int]:
    """One pass; returns the ids of the notices it made (none the second time)."""
    now = now or timezone.now()
    admins = list(User.objects.filter(role=Role.IT_ADMIN, is_active=True))
    inspectors = list(User.objects.filter(role=Role.INSPECTOR, is_active=True))
    specs = []
    with translation.override(settings.LANGUAGE_CODE):
        for incident, deadlines in open_incidents_with_rules():
            link = settings.PORTAL_URL.rstrip("/") + reverse("incidents:detail", args=[incident.pk])
            for deadline in deadlines:
                phase = _phase(deadline, now)
                if phase is None:
                    continue
                if phase == REMIND:
                    title = _("Incident %(number)s: “%(obligation)s” due by %(due)s") % {
                        "number": incident.number, "obligation": deadline.label, "due": _when(deadline.due_at)}
                    recipients = admins + ([incident.handler] if incident.handler and incident.handler.is_active
                                           and incident.handler not in admins else [])
                else:
                    title = _("Incident %(number)s: “%(obligation)s” overdue since %(due)s") % {
                        "number": incident.number, "obligation": deadline.label, "due": _when(deadline.due_at)}
                    recipients = admins + inspectors
                lines = [incident.title, deadline.legal_basis]
                if deadline.authority:
                    lines.append(_("To: %(authority)s") % {"authority": deadline.authority})
                for recipient in recipients:
                    specs.append(NoticeSpec(
                        recipient=recipient, kind=NoticeKind.IT_ALERT,
                        source_key=f"incident:{incident.pk}:{deadline.code}:{phase}", deadline=deadline.due_at,
                        context={"source": f"incident_deadline_{phase}", "title": title, "lines": lines, "link": link}))
    with transaction.atomic():
        return notices_enqueue(specs)
