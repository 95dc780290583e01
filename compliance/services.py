"""What the compliance app does: takes the daily snapshots, keeps the IT Center's thresholds, makes
the monthly reports and the background exports. Every write is here."""
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import UnitState
from accounts.models import Unit, User
from accounts.permissions import ensure_it_admin
from audit.choices import EventKind
from audit.models import SecurityEvent
from audit.services import audit_event_record
from lookups.choices import Decision
from lookups.models import LookupRecord
from policy.compliance import (
    ComplianceReason,
    UnitFigures,
    accounts_with_rules,
    failure_conditions,
    password_expiring_within_q,
    path_ancestors,
    rollup,
    unit_counts_annotations,
)
from portal.errors import PolicyViolation
from portal.leases import LeaseLost, job_claim, job_finish, job_renew, jobs_to_resume

from .models import ComplianceThresholds, ExportJob, MonthlyReport, UnitSnapshot
from .selectors import day_range, newest_seal_digest, rule_inputs, rules_not_judged

# DESIGN/issue: two years of daily history; a little more, so that a report on the 1st still finds
# the first day of the month two years back.
SNAPSHOT_RETENTION_DAYS = 2 * 366 + 31
EXPIRING_SOON_DAYS = 7


def _own_figures(now) -> tuple[dict[int, UnitFigures], dict[int, int], list[str]]:
    """Per unit id: the figures of its own active accounts (one grouped query) and how many passwords
    expire within the week."""
    conditions = failure_conditions(rule_inputs(now))
    rows = (accounts_with_rules(User.objects.filter(is_active=True)).order_by().values("unit_id")
            .annotate(**unit_counts_annotations(conditions),
                      expiring_week=Count("pk", filter=password_expiring_within_q(now, EXPIRING_SOON_DAYS))))
    figures, expiring = {}, {}
    for row in rows:
        figures[row["unit_id"]] = UnitFigures(row["total"], row["compliant"],
                                              {reason: row.get(reason, 0) for reason in ComplianceReason.values})
        expiring[row["unit_id"]] = row["expiring_week"]
    return figures, expiring, rules_not_judged(conditions)


def _day_activity(day: date) -> tuple[dict, dict, dict]:
    """Per unit id: lookups allowed and refused that day (by the unit the officer was in then) and
    lockouts — one grouped query each over that day's rows only."""
    start, end = day_range(day)
    allowed, refused = {}, {}
    lookups = (LookupRecord.objects.filter(decided_at__gte=start, decided_at__lt=end, unit_id_then__isnull=False)
               .order_by().values("unit_id_then", "decision").annotate(n=Count("pk")))
    for row in lookups:
        (allowed if row["decision"] == Decision.ALLOW else refused)[row["unit_id_then"]] = row["n"]
    lockouts = dict(SecurityEvent.objects.filter(kind=EventKind.LOCKOUT, occurred_at__gte=start, occurred_at__lt=end,
                                                 unit__isnull=False)
                    .order_by().values("unit_id").annotate(n=Count("pk")).values_list("unit_id", "n"))
    return allowed, refused, lockouts


def _subtree_sums(own: dict[int, int], units, paths_by_id) -> dict[str, int]:
    sums = {unit.path: 0 for unit in units}
    for unit_id, count in own.items():
        path = paths_by_id.get(unit_id)
        if path is None:
            continue
        for ancestor in path_ancestors(path):
            if ancestor in sums:
                sums[ancestor] += count
    return sums


def snapshot_take(*, actor, now=None) -> int:
    """Today's snapshot of every active unit (figures of its whole subtree), written once: a second run
    the same day — a redelivered job, two workers — inserts nothing (unique per unit and day). Returns
    how many rows it wrote. Old snapshots past two years are removed."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    if UnitSnapshot.objects.filter(day=day).exists():
        return 0
    rows = snapshot_rows(now)
    with transaction.atomic():
        UnitSnapshot.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        UnitSnapshot.objects.filter(day__lt=day - timedelta(days=SNAPSHOT_RETENTION_DAYS)).delete()
    # ignore_conflicts returns every object it was given: count what this run really wrote.
    return UnitSnapshot.objects.filter(day=day, taken_at=now).count()


def snapshot_rows(now) -> list[UnitSnapshot]:
    """Every active unit's figures now, as snapshot rows not saved: what the daily job writes, and
    what a dashboard shows on the day a unit has no snapshot yet (compliance.selectors.dashboard).
    Reads only."""
    day = timezone.localdate(now)
    units = list(Unit.objects.filter(state=UnitState.ACTIVE).only("pk", "code", "name", "path"))
    paths_by_id = dict(Unit.objects.values_list("pk", "path"))  # merged units' history rolls up too
    own, expiring, not_judged = _own_figures(now)
    own_by_path = {}
    for unit_id, figures in own.items():
        path = paths_by_id.get(unit_id)
        if path is not None:
            own_by_path.setdefault(path, UnitFigures()).add(figures)
    totals = rollup(own_by_path, [unit.path for unit in units])
    allowed, refused, lockouts = _day_activity(day)
    sums = {name: _subtree_sums(values, units, paths_by_id)
            for name, values in (("expiring_week", expiring), ("lookups_allowed", allowed),
                                 ("lookups_refused", refused), ("lockouts", lockouts))}
    rows = []
    for unit in units:
        figures = totals[unit.path]
        rows.append(UnitSnapshot(
            day=day, unit_id=unit.pk, unit_code=unit.code, unit_name=unit.name, unit_path=unit.path,
            depth=max(unit.path.count("/") - 2, 0), accounts_total=figures.total,
            accounts_compliant=figures.compliant, accounts_own=own.get(unit.pk, UnitFigures()).total,
            rules_not_judged=not_judged, taken_at=now,
            **{reason: figures.reasons.get(reason, 0) for reason in ComplianceReason.values},
            **{name: values[unit.path] for name, values in sums.items()},
        ))
    return rows


def thresholds_update(*, actor, good_from: int, attention_from: int) -> ComplianceThresholds:
    """The IT Center sets the zones of every score; the change is audited."""
    ensure_it_admin(actor, _("Only the IT Center sets the compliance zones."))
    if not (0 <= attention_from < good_from <= 100):
        raise PolicyViolation(code="thresholds_unordered", messages=[
            _("“Needs attention from” must be below “good from”, both between 0 and 100.")])
    with transaction.atomic():
        current = ComplianceThresholds.objects.select_for_update().filter(pk=ComplianceThresholds.SINGLETON_ID).first()
        old = (current.good_from, current.attention_from) if current else (
            ComplianceThresholds.DEFAULT_GOOD_FROM, ComplianceThresholds.DEFAULT_ATTENTION_FROM)
        thresholds, _created = ComplianceThresholds.objects.update_or_create(
            pk=ComplianceThresholds.SINGLETON_ID,
            defaults={"good_from": good_from, "attention_from": attention_from, "updated_at": timezone.now(),
                      "updated_by": actor})
        if old != (good_from, attention_from):
            audit_event_record(kind=EventKind.COMPLIANCE_THRESHOLDS_CHANGED, actor=actor, unit=actor.unit, details={
                "old": {"good_from": old[0], "attention_from": old[1]},
                "new": {"good_from": good_from, "attention_from": attention_from}})
    return thresholds


# ----- monthly reports ---------------------------------------------------------------------------------

def _previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_reports_generate(*, actor, month: date | None = None, now=None) -> int:
    """Every unit's and the province's report for `month` (the month before today by default), each
    made once: a report that exists is never made again (unique, and the table refuses UPDATE), so a
    second run, a redelivered job or a later change of today's data leaves it as it was."""
    from django.utils import translation

    from accounts.documents import document_number_take

    from .points import report_points
    from .reports import report_figures_all, report_heading, report_render

    now = now or timezone.now()
    today = timezone.localdate(now)
    month = (month or _previous_month(today)).replace(day=1)
    if month >= today.replace(day=1):
        raise PolicyViolation(_("A month's report is made once the month has ended."), code="month_not_ended")
    done = set(MonthlyReport.objects.filter(month=month).values_list("unit_id", flat=True))
    made = 0
    seal = newest_seal_digest() or ""
    with translation.override("vi"):
        for figures in report_figures_all(month, seal_digest=seal, generated_at=now):
            if figures["unit"]["id"] in done:
                continue
            # The letter point by point ("Điểm 1" … "Điểm 5"), kept with the figures (compliance.points).
            figures["points"] = report_points(figures["unit"]["id"], month, now)
            try:
                with transaction.atomic():
                    # An official report: numbered in the year's count of reports (rolled back with the
                    # report when another worker made it first), with the issuer as configured today.
                    figures.update(report_heading(number=document_number_take("BC", year=today.year),
                                                  issued_on=today))
                    html, pdf, xlsx = report_render(figures)
                    MonthlyReport.objects.create(
                        month=month, unit_id=figures["unit"]["id"], unit_code=figures["unit"]["code"],
                        unit_name=figures["unit"]["name"], unit_path=figures["unit"]["path"],
                        is_province=figures["is_province"], generated_at=now, seal_digest=seal, figures=figures,
                        html=html, pdf=pdf, xlsx=xlsx)
            except IntegrityError:
                continue  # another worker made it first: one report per unit and month
            made += 1
    if made:
        audit_event_record(kind=EventKind.COMPLIANCE_REPORTS_GENERATED, actor=actor,
                           details={"month": month.strftime("%m/%Y"), "reports": made})
    return made


# ----- exports -----------------------------------------------------------------------------------------

def export_record(*, actor, list_name: str, file_format: str, rows: int) -> None:
    """An export of evidence is itself evidence: who took which list, how many rows."""
    audit_event_record(kind=EventKind.LIST_EXPORTED, actor=actor, unit=actor.unit,
                       details={"list": list_name, "file_format": file_format, "rows": rows})


def export_job_start(*, actor, list_name: str, params: dict, file_format: str, rows_total: int) -> ExportJob:
    from celery import current_app

    job = ExportJob.objects.create(requested_by=actor, list_name=list_name, params=params, file_format=file_format,
                                   rows_total=rows_total)
    transaction.on_commit(lambda: current_app.send_task("compliance.export_run", args=[job.pk]))
    return job


EXPORT_PROGRESS_EVERY = 500


def export_job_run(*, job_id: int) -> None:
    """Claim the job under a lease (portal.leases: a redelivery does nothing; a killed worker's job is
    taken over by the next one after the lease), write the file with progress, keep it."""
    from .exports import LISTS, export_file, export_heading

    claim = job_claim(ExportJob, job_id)
    if claim is None:
        return
    job = ExportJob.objects.select_related("requested_by__unit").get(pk=job_id)
    export = LISTS[job.list_name]
    try:
        queryset = export.rows(job.requested_by, job.params)

        def counted():
            for done, item in enumerate(queryset.iterator(chunk_size=2000), start=1):
                if done % EXPORT_PROGRESS_EVERY == 0 and not job_renew(ExportJob, job_id, claim, rows_done=done):
                    raise LeaseLost  # another worker took the job over: leave it to them
                yield item

        content = export_file(export, job.file_format, counted(),
                              heading=export_heading(export, job.requested_by, job.params, at=job.requested_at))
    except LeaseLost:
        return
    except Exception:
        job_finish(ExportJob, job_id, claim, state=ExportJob.State.FAILED, finished_at=timezone.now())
        raise
    with transaction.atomic():
        finished = job_finish(
            ExportJob, job_id, claim, state=ExportJob.State.DONE, content=content, rows_done=job.rows_total,
            finished_at=timezone.now(), file_name=f"{job.list_name}-{timezone.localdate():%Y%m%d}.{job.file_format}")
        if finished:
            export_record(actor=job.requested_by, list_name=job.list_name, file_format=job.file_format,
                          rows=job.rows_total)


def export_jobs_resume(*, queue: str | None = None) -> list[int]:
    """The sweep (every minute): queue again the exports a dead worker left running past the lease, or
    whose message was lost; the next worker claims them (export_job_run)."""
    from celery import current_app

    ids = jobs_to_resume(ExportJob, queued_field="requested_at")
    for job_id in ids:
        current_app.send_task("compliance.export_run", args=[job_id], **({"queue": queue} if queue else {}))
    return ids
