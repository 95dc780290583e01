"""IT Center alerts (every five minutes) and the IT Center's daily report.

An alert comes from a source: something that says what to alert about now, each thing once. A source
with state of its own (failed jobs, failed deliveries) marks what it alerted, in the same transaction
as the notices, so a crash alerts again rather than never; a source without (a burst of lockouts in a
window) is made once by the notice's key (source, key). Every active IT admin gets each alert in-app
and by e-mail (alerts are mandatory notices).

Adding a source (as the lookups' anomaly flags are): a `SelectorSource` needs a selector of the records
to alert, a function that describes them as (key, title, lines) and the service that marks them
alerted; append it to ALERT_SOURCES. The daily report's sections plug in the same way (DAILY_SECTIONS):
a function of `now` that answers a DailySection or None (e.g. the newest audit seal of each table).
"""
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.choices import Role
from accounts.models import TurnoverRequest, User
from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.selectors import seal_digests_latest
from federation.selectors import deliveries_to_alert, systems_quarantined_to_alert, systems_stopped_to_alert
from federation.services import deliveries_mark_alerted, systems_mark_quarantine_alerted
from federation.targets import systems_mark_stop_alerted
from lookups.selectors import anomaly_flags_to_alert
from lookups.services import anomaly_flags_mark_alerted
from policy.compliance import request_overdue_q
from portal.actors import SystemActor

from .choices import DeliveryState, NoticeKind
from .models import JobFailure, Notice
from .outbox import NoticeSpec, notices_enqueue


@dataclass(frozen=True)
class AlertItem:
    source: str
    key: str  # what makes it once: the notice key is alert:<source>:<key>
    title: str
    lines: list[str] = field(default_factory=list)
    link: str = ""
    records: tuple = ()  # what `acknowledge` marks (ids)


class AlertSource:
    name = ""

    def pending(self, now) -> list[AlertItem]:
        raise NotImplementedError

    def acknowledge(self, items: list[AlertItem], now) -> None:
        """Mark what was alerted (same transaction as the notices). Sources keyed by a window need nothing."""


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "d/m/Y H:i")


def _link(name: str) -> str:
    return settings.PORTAL_URL.rstrip("/") + reverse(name)


class LockoutBurst(AlertSource):
    """Many usernames locked within a short window: someone guessing passwords wholesale, or a
    locking attack (the address block of accounts.lockout stops one address; this sees many)."""

    name = "lockout_burst"

    def pending(self, now):
        minutes = settings.NOTIFICATIONS_LOCKOUT_BURST_MINUTES
        window = timedelta(minutes=minutes)
        # Windows aligned on the clock: one alert per window however often the pass runs in it.
        start = now - timedelta(seconds=now.timestamp() % window.total_seconds())
        events = SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, occurred_at__gt=now - window,
                                              occurred_at__lte=now)
        count = events.count()
        if count < settings.NOTIFICATIONS_LOCKOUT_BURST:
            return []
        usernames = list(events.order_by("-id").values_list("target_username", flat=True)[:10])
        addresses = Counter(events.exclude(ip_address=None).values_list("ip_address", flat=True)).most_common(3)
        lines = [ngettext("%(count)d accounts locked in the last %(minutes)d minutes.",
                          "%(count)d accounts locked in the last %(minutes)d minutes.", count) % {
                              "count": count, "minutes": minutes},
                 _("Latest: %(usernames)s") % {"usernames": ", ".join(usernames)}]
        if addresses:
            lines.append(_("Most attempts from: %(addresses)s") % {
                "addresses": ", ".join(f"{address} ({n})" for address, n in addresses)})
        return [AlertItem(source=self.name, key=start.isoformat(), title=_("Burst of account lockouts"),
                          lines=lines, link=_link("audit:events"))]


class TurnoverOverdue(AlertSource):
    """Letter point 2: the IT Center acts on a turnover request within its service level."""

    name = "turnover_overdue"

    def pending(self, now):
        items = []
        for request in TurnoverRequest.objects.filter(request_overdue_q(now)).select_related("unit").order_by("id"):
            items.append(AlertItem(
                source=self.name, key=f"request:{request.pk}",
                title=_("Turnover request past its service level"),
                lines=[_("%(letter)s of %(unit)s was due by %(due)s.") % {
                    "letter": request.letter_number, "unit": request.unit.name, "due": _when(request.due_at)}],
                link=_link("accounts:turnover_list")))
        return items


class FailedJobs(AlertSource):
    name = "failed_jobs"

    def pending(self, now):
        failures = list(JobFailure.objects.filter(alerted_at__isnull=True).order_by("id")[:50])
        if not failures:
            return []
        lines = [_("%(task)s at %(when)s: %(error)s") % {"task": failure.task_name, "when": _when(failure.occurred_at),
                                                         "error": failure.error} for failure in failures]
        return [AlertItem(source=self.name, key=f"up-to:{failures[-1].pk}", title=_("Background jobs failed"),
                          lines=lines, records=tuple(failure.pk for failure in failures))]

    def acknowledge(self, items, now):
        for item in items:
            JobFailure.objects.filter(pk__in=item.records, alerted_at__isnull=True).update(alerted_at=now)


class FailedDeliveries(AlertSource):
    """E-mails that failed after every retry. Not those of the IT Center's own alerts and reports: with
    the SMTP server down they would fail too and alert again, for ever (they are in-app anyway)."""

    name = "failed_deliveries"
    OWN_KINDS = (NoticeKind.IT_ALERT, NoticeKind.IT_DAILY)

    def _open(self):
        return (Notice.objects.filter(email_state=DeliveryState.FAILED, failure_alerted_at__isnull=True)
                .exclude(kind__in=self.OWN_KINDS))

    def pending(self, now):
        by_kind = dict(self._open().values_list("kind").annotate(n=Count("pk")).order_by())
        if not by_kind:
            return []
        newest = self._open().aggregate(newest=Max("pk"))["newest"]
        lines = [f"{NoticeKind(kind).label}: {n}" for kind, n in sorted(by_kind.items())]
        return [AlertItem(source=self.name, key=f"up-to:{newest}", title=_("E-mails could not be delivered"),
                          lines=lines, link=_link("notifications:failed"), records=(newest,))]

    def acknowledge(self, items, now):
        for item in items:
            self._open().filter(pk__lte=item.records[0]).update(failure_alerted_at=now)


class SelectorSource(AlertSource):
    """A source built from another app's selector and marking service (see the module docstring)."""

    def __init__(self, name: str, *, select: Callable[[], list], describe: Callable[[list], tuple[str, str, list]],
                 mark: Callable[[list], None] | None = None, link_name: str = ""):
        self.name, self._select, self._describe, self._mark, self._link_name = name, select, describe, mark, link_name

    def pending(self, now):
        records = list(self._select())
        if not records:
            return []
        key, title, lines = self._describe(records)
        return [AlertItem(source=self.name, key=key, title=title, lines=lines,
                          link=_link(self._link_name) if self._link_name else "", records=tuple(records))]

    def acknowledge(self, items, now):
        if self._mark is not None:
            for item in items:
                self._mark(list(item.records))


ALERT_JOB = SystemActor("alert_job")


def _anomalies_describe(flags) -> tuple[str, str, list[str]]:
    """Anomalous lookups (lookups' flags, recorded as security events): one line each, no citizen ID."""
    lines = [_("%(when)s · %(officer)s (%(unit)s): %(kind)s") % {
        "when": _when(flag.decided_at), "officer": flag.officer_username or "—", "unit": flag.unit_code_then or "—",
        "kind": flag.get_kind_display()} for flag in flags]
    return f"up-to:{flags[-1].pk}", _("Anomalous citizen lookups"), lines


def _anomalies_mark(flags) -> None:
    anomaly_flags_mark_alerted(actor=ALERT_JOB, flag_ids=[flag.pk for flag in flags])


def _system_deliveries_describe(deliveries) -> tuple[str, str, list[str]]:
    """Sign-outs a connected system never received (after every retry): the account may still be
    signed in there; the IT Center calls the system's contact."""
    lines = [_("%(when)s · %(system)s: %(account)s — %(error)s") % {
        "when": _when(delivery.created_at), "system": delivery.system.name,
        "account": delivery.account.username if delivery.account else "—", "error": delivery.last_error or "—"}
        for delivery in deliveries]
    return f"up-to:{deliveries[-1].pk}", _("Sign-outs not delivered to connected systems"), lines


def _system_deliveries_mark(deliveries) -> None:
    deliveries_mark_alerted(ids=[delivery.pk for delivery in deliveries], now=timezone.now())


def _systems_quarantined_describe(systems) -> tuple[str, str, list[str]]:
    """SCIM targets that failed every recent push: retried once a day, nothing dropped, until they answer."""
    lines = [_("%(system)s (%(unit)s) since %(when)s") % {
        "system": system.name, "unit": system.unit.code, "when": _when(system.quarantined_at)} for system in systems]
    return f"quarantined:{systems[-1].pk}:{systems[-1].quarantined_at.timestamp():.0f}", \
        _("Connected systems quarantined after repeated failures"), lines


def _systems_quarantined_mark(systems) -> None:
    systems_mark_quarantine_alerted(ids=[system.pk for system in systems], now=timezone.now())


def _systems_stopped_describe(systems) -> tuple[str, str, list[str]]:
    """SCIM targets quarantined for four weeks: their deliveries are kept but no longer sent until an
    IT admin resumes them on the system's page."""
    lines = [_("%(system)s (%(unit)s) since %(when)s") % {
        "system": system.name, "unit": system.unit.code, "when": _when(system.deliveries_stopped_at)}
        for system in systems]
    return f"stopped:{systems[-1].pk}:{systems[-1].deliveries_stopped_at.timestamp():.0f}", \
        _("Deliveries stopped to connected systems after four weeks in quarantine"), lines


def _systems_stopped_mark(systems) -> None:
    systems_mark_stop_alerted(ids=[system.pk for system in systems], now=timezone.now())


ALERT_SOURCES: list[AlertSource] = [
    LockoutBurst(), TurnoverOverdue(), FailedJobs(), FailedDeliveries(),
    SelectorSource("anomalous_lookups", select=anomaly_flags_to_alert, describe=_anomalies_describe,
                   mark=_anomalies_mark, link_name="lookups:anomalies"),
    SelectorSource("system_deliveries_failed", select=deliveries_to_alert, describe=_system_deliveries_describe,
                   mark=_system_deliveries_mark, link_name="federation:registry"),
    SelectorSource("systems_quarantined", select=systems_quarantined_to_alert, describe=_systems_quarantined_describe,
                   mark=_systems_quarantined_mark, link_name="federation:registry"),
    SelectorSource("systems_deliveries_stopped", select=systems_stopped_to_alert, describe=_systems_stopped_describe,
                   mark=_systems_stopped_mark, link_name="federation:registry"),
]


def _it_admins():
    return list(User.objects.filter(role=Role.IT_ADMIN, is_active=True))


def alerts_send(*, now=None, sources: list[AlertSource] | None = None) -> list[int]:
    """Ask every source, make each alert once for every active IT admin, mark what the sources alerted."""
    now = now or timezone.now()
    admins = _it_admins()
    if not admins:
        return []  # nothing marked: the alerts wait for an administrator
    created = []
    with translation.override(settings.LANGUAGE_CODE):
        for source in (ALERT_SOURCES if sources is None else sources):
            with transaction.atomic():
                items = source.pending(now)
                if not items:
                    continue
                specs = [NoticeSpec(recipient=admin, kind=NoticeKind.IT_ALERT, source_key=f"alert:{item.source}:{item.key}",
                                    context={"source": item.source, "title": item.title, "lines": item.lines,
                                             "link": item.link})
                         for item in items for admin in admins]
                created += notices_enqueue(specs)
                source.acknowledge(items, now)
    return created


def job_failure_record(*, task_name: str, task_id: str, error: BaseException) -> JobFailure:
    """A Celery job raised (accounts' or notifications' jobs alike): kept for the next alert pass."""
    return JobFailure.objects.create(task_name=task_name[:200], task_id=(task_id or "")[:64],
                                     error=type(error).__name__[:200])


# ----- the IT Center's daily report --------------------------------------------------------------------

@dataclass(frozen=True)
class DailySection:
    heading: str
    lines: list[str]


def _deliveries_yesterday(now) -> DailySection:
    since = now - timedelta(days=1)
    made = Notice.objects.filter(created_at__gte=since)
    sent = Notice.objects.filter(sent_at__gte=since).count()
    failed = Notice.objects.filter(email_state=DeliveryState.FAILED).count()
    waiting = Notice.objects.filter(email_state__in=[DeliveryState.READY, DeliveryState.SENDING]).count()
    by_kind = dict(made.values_list("kind").annotate(n=Count("pk")).order_by())
    lines = [_("E-mails sent in the last 24 hours: %(n)d") % {"n": sent},
             _("E-mails waiting to be sent: %(n)d") % {"n": waiting},
             _("E-mails failed, to resend: %(n)d") % {"n": failed}]
    lines += [f"{NoticeKind(kind).label}: {n}" for kind, n in sorted(by_kind.items())]
    return DailySection(heading=_("Notifications"), lines=lines)


def _jobs_and_requests(now) -> DailySection:
    failures = JobFailure.objects.filter(occurred_at__gte=now - timedelta(days=1)).count()
    overdue = TurnoverRequest.objects.filter(request_overdue_q(now)).count()
    lockouts = SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, occurred_at__gte=now - timedelta(days=1)).count()
    return DailySection(heading=_("Jobs and requests"), lines=[
        _("Background jobs failed in the last 24 hours: %(n)d") % {"n": failures},
        _("Turnover requests past their service level: %(n)d") % {"n": overdue},
        _("Accounts locked in the last 24 hours: %(n)d") % {"n": lockouts}])


def _audit_seals(now) -> DailySection:
    """The newest seal of each sealed table, published outside the database: a rewrite of the whole
    chain by someone holding the database is caught against the digests these mails carried."""
    latest = seal_digests_latest()
    if not latest:
        return DailySection(heading=_("Audit seals"), lines=[_("No seal has been made yet.")])
    lines = [_("%(table)s: seal no. %(position)d up to record %(last_id)d, sealed %(sealed_at)s, chain %(chain)s")
             % {"table": table, "position": seal["position"], "last_id": seal["last_id"],
                "sealed_at": formats.date_format(timezone.localtime(seal["sealed_at"]), "d/m/Y H:i"),
                "chain": seal["chain"]}
             for table, seal in sorted(latest.items())]
    return DailySection(heading=_("Audit seals"), lines=lines)


DAILY_SECTIONS: list[Callable] = [_deliveries_yesterday, _jobs_and_requests, _audit_seals]


def it_daily_send(*, now=None) -> list[int]:
    """The IT Center's daily report, once per day for every active IT admin."""
    now = now or timezone.now()
    admins = _it_admins()
    if not admins:
        return []
    day = timezone.localdate(now)
    with translation.override(settings.LANGUAGE_CODE):
        sections = [section for section in (build(now) for build in DAILY_SECTIONS) if section is not None]
        context = {"day": day.strftime("%d/%m/%Y"),
                   "sections": [{"heading": section.heading, "lines": section.lines} for section in sections]}
    return notices_enqueue([NoticeSpec(recipient=admin, kind=NoticeKind.IT_DAILY, source_key=f"day:{day.isoformat()}",
                                       context=context) for admin in admins])
