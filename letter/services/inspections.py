"""Inspections (letter point 5: the Department's inspectors inspect system administration, the
anti-malware installation, the security measures and malware-information sharing). An inspector records
an inspection of a unit, its findings per letter point with a severity and the fixes it requires (owner,
deadline); the unit's leader answers each fix with evidence; the inspector closes it, or returns it when
the answer does not settle it. A fix still open past its deadline counts against the unit."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.attachments import attachment_store
from accounts.choices import Role
from accounts.scope import unit_is_visible_to
from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import NotAllowed, PolicyViolation

from ..choices import FixState, LetterPoint, Severity
from ..models import Finding, Inspection, RequiredFix


def ensure_inspector(actor) -> None:
    if getattr(actor, "is_system", False):
        return
    if not actor.is_active or actor.role != Role.INSPECTOR:
        raise NotAllowed(_("Only the Department's inspectors record inspections."))


def _evidence_store(evidence):
    """Evidence is a PDF checked by its content, as a turnover letter is; its refusal names the form's field."""
    if not evidence:
        return None
    try:
        return attachment_store(evidence)
    except PolicyViolation as error:
        error.field = "evidence"
        raise


@transaction.atomic
def inspection_record(*, actor, unit, inspected_on, team: str, scope: str, decision_number: str = "",
                      conclusion: str = "", evidence_note: str = "", evidence=None) -> Inspection:
    ensure_inspector(actor)
    if inspected_on > timezone.localdate():
        raise PolicyViolation(_("The inspection date cannot be in the future."), code="inspection_date",
                              field="inspected_on")
    stored = _evidence_store(evidence)
    inspection = Inspection.objects.create(
        unit=unit, unit_name=unit.name, inspected_on=inspected_on, team=team.strip(), scope=scope.strip(),
        decision_number=decision_number.strip(), conclusion=conclusion.strip(), evidence_note=evidence_note.strip(),
        evidence_sha256=stored.sha256 if stored else "", evidence_name=stored.name if stored else "",
        created_by=actor)
    audit_event_record(kind=EventKind.INSPECTION_RECORDED, actor=actor, unit=unit, details={
        "inspection": inspection.pk, "date": inspected_on.strftime("%d/%m/%Y")})
    return inspection


@transaction.atomic
def finding_add(*, actor, inspection: Inspection, point: int, severity: str, description: str,
                fix_description: str = "", fix_owner: str = "", fix_deadline=None) -> Finding:
    """A finding on one letter point, with the fix it requires when it requires one."""
    ensure_inspector(actor)
    if point not in LetterPoint.values or severity not in Severity.values:
        raise PolicyViolation(_("Choose the letter point and the severity."), code="finding_invalid")
    wants_fix = bool(fix_description.strip() or fix_owner.strip() or fix_deadline)
    if wants_fix:
        if not (fix_description.strip() and fix_owner.strip() and fix_deadline):
            raise PolicyViolation(_("A required fix needs what to do, an owner and a deadline."),
                                  code="fix_incomplete", field="fix_description")
        if fix_deadline < inspection.inspected_on:
            raise PolicyViolation(_("The deadline cannot be before the inspection date."), code="fix_deadline",
                                  field="fix_deadline")
    finding = Finding.objects.create(inspection=inspection, point=point, severity=severity,
                                     description=description.strip())
    if wants_fix:
        RequiredFix.objects.create(finding=finding, description=fix_description.strip(), owner=fix_owner.strip(),
                                   deadline=fix_deadline)
    audit_event_record(kind=EventKind.INSPECTION_FINDING_ADDED, actor=actor, unit=inspection.unit, details={
        "inspection": inspection.pk, "point": point, "severity": severity,
        **({"deadline": fix_deadline.strftime("%d/%m/%Y")} if wants_fix else {})})
    return finding


@transaction.atomic
def fix_answer(*, actor, fix: RequiredFix, answer: str, evidence=None) -> RequiredFix:
    """The unit's leader says what was done, with evidence (a PDF: the minutes, a screenshot printed)."""
    unit = fix.finding.inspection.unit
    if actor.role != Role.UNIT_LEADER or not unit_is_visible_to(actor, unit):
        raise NotAllowed(_("Only the leader of the inspected unit answers its fixes."))
    if not answer.strip():
        raise PolicyViolation(_("Say what was done."), code="answer_empty", field="answer")
    stored = _evidence_store(evidence)
    # Claimed by a conditional UPDATE: an answer to a fix the inspector closed meanwhile changes nothing.
    updated = RequiredFix.objects.filter(pk=fix.pk, state__in=[FixState.OPEN, FixState.ANSWERED]).update(
        state=FixState.ANSWERED, answer=answer.strip(), answered_by=actor, answered_at=timezone.now(),
        answer_evidence_sha256=stored.sha256 if stored else fix.answer_evidence_sha256,
        answer_evidence_name=stored.name if stored else fix.answer_evidence_name)
    if not updated:
        raise PolicyViolation(_("This fix is closed already."), code="fix_closed")
    audit_event_record(kind=EventKind.INSPECTION_FIX_ANSWERED, actor=actor, unit=unit, details={"fix": fix.pk})
    fix.refresh_from_db()
    return fix


@transaction.atomic
def fix_close(*, actor, fix: RequiredFix, note: str = "", accept: bool = True) -> RequiredFix:
    """The inspector closes an answered fix, or returns it to the unit (open again) with a note."""
    ensure_inspector(actor)
    if not accept and not note.strip():
        raise PolicyViolation(_("Say why the answer does not settle the fix."), code="note_empty", field="note")
    target = FixState.CLOSED if accept else FixState.OPEN
    fields = {"state": target, "close_note": note.strip()[:300]}
    if accept:
        fields.update(closed_by=actor, closed_at=timezone.now())
    updated = RequiredFix.objects.filter(pk=fix.pk, state=FixState.ANSWERED).update(**fields)
    if not updated:
        raise PolicyViolation(_("Only a fix the unit has answered can be closed or returned."), code="fix_not_answered")
    audit_event_record(kind=EventKind.INSPECTION_FIX_CLOSED, actor=actor, unit=fix.finding.inspection.unit,
                       details={"fix": fix.pk, "state": target, **({"note": note.strip()[:200]} if note else {})})
    fix.refresh_from_db()
    return fix
