"""Roster reconciliation: a unit's staff list against its accounts. It finds the accounts nobody on
the roster owns (orphans), officers the roster says have left whose account still works, and
officers without an account; from those a leader files turnover request lines in one step.

Reading the file changes nothing. A small file is reconciled at once; a large one by a background
job (accounts.tasks.reconcile_roster) that reports progress on its RosterImport row."""
import hashlib
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.choices import EventKind
from audit.services import audit_event_record
from portal.errors import DomainError, PolicyViolation
from portal.leases import LeaseLost, job_claim, job_finish, job_renew, jobs_to_resume
from portal.text import fold

from .. import scope
from ..choices import DepartureReason, TurnoverAction
from ..models import RosterImport, User
from ..permissions import ensure_may, may_reconcile_roster
from ..roster_file import MAX_FILE_BYTES, TRANSFERRED, RosterRow, phone_digits, roster_read

# Above this size a roster is reconciled in the background (a few seconds of parsing).
BACKGROUND_ABOVE_BYTES = 256 * 1024
PROGRESS_EVERY = 1000


@dataclass
class Reconciliation:
    matched: int = 0
    orphans: list = field(default_factory=list)  # accounts without an officer on the roster
    left_active: list = field(default_factory=list)  # (row, account): departed, account still active
    without_account: list = field(default_factory=list)  # rows of active officers with no account
    ambiguous: list = field(default_factory=list)  # rows matching several accounts by name

    def as_json(self) -> dict:
        def row(r: RosterRow):
            return {"line": r.line, "full_name": r.full_name, "unit_code": r.unit_code, "position": r.position,
                    "status": r.status, "email": r.email, "phone": r.phone}

        return {
            "matched": self.matched,
            "orphans": [account.pk for account in self.orphans],
            "left_active": [{"row": row(r), "account": account.pk} for r, account in self.left_active],
            "without_account": [row(r) for r in self.without_account],
            "ambiguous": [row(r) for r in self.ambiguous],
        }


def ensure_may_reconcile(actor) -> None:
    ensure_may(may_reconcile_roster(actor), _("Only unit leaders and the IT Center reconcile rosters."))


def _known_codes_for(actor):
    def known(codes):
        return set(scope.units_visible_to(actor).filter(code__in=codes).values_list("code", flat=True))
    return known


def _name_key(unit_code: str, name: str) -> tuple:
    return unit_code, " ".join(fold(name).split())


def roster_reconcile(*, actor, rows: list[RosterRow], progress=None) -> Reconciliation:
    """Match roster rows to the accounts of the units the roster names: by e-mail, then phone, then
    name within the unit (accent-insensitive). A constant number of queries whatever the size."""
    codes = {row.unit_code for row in rows}
    accounts = list(scope.accounts_visible_to(actor).filter(unit__code__in=codes).select_related("unit")
                    .order_by("unit__path", "username"))
    by_email = {account.email.lower(): account for account in accounts if account.email}
    by_phone = {phone_digits(account.phone): account for account in accounts if phone_digits(account.phone)}
    by_name = defaultdict(list)
    for account in accounts:
        by_name[_name_key(account.unit.code, account.full_name)].append(account)
    matched_ids = set()
    result = Reconciliation()
    for index, row in enumerate(rows, start=1):
        account = by_email.get(row.email) if row.email else None
        if account is None and phone_digits(row.phone):
            account = by_phone.get(phone_digits(row.phone))
        if account is None:
            candidates = [a for a in by_name.get(_name_key(row.unit_code, row.full_name), [])
                          if a.pk not in matched_ids]
            if len(candidates) > 1:
                result.ambiguous.append(row)
                continue
            account = candidates[0] if candidates else None
        if account is None or account.pk in matched_ids:
            if row.status == "active":
                result.without_account.append(row)
            continue
        matched_ids.add(account.pk)
        result.matched += 1
        if row.status != "active" and account.is_active:
            result.left_active.append((row, account))
        if progress is not None and index % PROGRESS_EVERY == 0:
            progress(index)
    result.orphans = [account for account in accounts if account.is_active and account.pk not in matched_ids]
    return result


def _roster_path(digest: str, file_name: str) -> Path:
    suffix = ".xlsx" if file_name.lower().endswith(".xlsx") else ".csv"
    return Path(settings.PRIVATE_MEDIA_ROOT) / "roster" / f"{digest}{suffix}"


def roster_import_start(*, actor, uploaded) -> RosterImport:
    """Take the upload: reconcile at once when small, else store it (outside the web root) and
    enqueue the job after commit. The caller shows the import's page."""
    ensure_may_reconcile(actor)
    size = getattr(uploaded, "size", 0) or 0
    if size > MAX_FILE_BYTES:
        raise PolicyViolation(_("The file is larger than 8 MB."), field="roster", code="roster_too_large")
    data = b"".join(uploaded.chunks())
    name = os.path.basename(uploaded.name or "roster.csv")[:200]
    digest = hashlib.sha256(data).hexdigest()
    roster_import = RosterImport.objects.create(uploaded_by=actor, file_name=name, sha256=digest)
    audit_event_record(kind=EventKind.ROSTER_UPLOADED, actor=actor, unit=actor.unit,
                       details={"file": name, "sha256": digest, "roster_import": roster_import.pk})
    if len(data) <= BACKGROUND_ABOVE_BYTES:
        _run(roster_import, actor, data)
        return roster_import
    path = _roster_path(digest, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # By name: the task lives in the interface layer (accounts.tasks), which services never import.
    transaction.on_commit(lambda: current_app.send_task("accounts.reconcile_roster", args=[roster_import.pk]))
    return roster_import


def roster_import_run(*, import_id: int) -> RosterImport | None:
    """The background job: claim the import under a lease (portal.leases: a redelivered task does
    nothing; a killed worker's import is taken over by the next worker after the lease), reconcile,
    store the result, remove the stored file. Reconciling only reads, so running it again is safe."""
    claim = job_claim(RosterImport, import_id)
    if claim is None:
        return None
    roster_import = RosterImport.objects.select_related("uploaded_by").get(pk=import_id)
    path = _roster_path(roster_import.sha256, roster_import.file_name)
    try:
        _run(roster_import, roster_import.uploaded_by, path.read_bytes(), claim=claim)
    except LeaseLost:
        return None  # another worker took the import over: the file and the result are theirs
    except Exception:
        # A failure the next attempt would meet again (an unreadable file, the time limit): failed now.
        # Only a killed worker runs none of this, and leaves the file for the next one.
        job_finish(RosterImport, import_id, claim, state=RosterImport.State.FAILED, finished_at=timezone.now())
        path.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
    return roster_import


def roster_import_time_out(*, import_id: int) -> bool:
    """The job ran out of its time (a hostile or huge file): the running import is refused with a
    message, never left "running" for good. Whether it was still running."""
    return bool(RosterImport.objects.filter(pk=import_id, state=RosterImport.State.RUNNING).update(
        state=RosterImport.State.REFUSED, finished_at=timezone.now(),
        problems=[[0, str(_("The file took too long to read and was refused: check it holds only the roster, "
                             "or split it by unit."))]]))


def roster_imports_resume(*, queue: str | None = None) -> list[int]:
    """The sweep (every minute): queue again the imports a dead worker left running past the lease, or
    whose message was lost; the next worker claims them (roster_import_run)."""
    ids = jobs_to_resume(RosterImport, queued_field="uploaded_at")
    for import_id in ids:
        current_app.send_task("accounts.reconcile_roster", args=[import_id], **({"queue": queue} if queue else {}))
    return ids


def _run(roster_import: RosterImport, actor, data: bytes, claim=None) -> None:
    """Reconcile and store the result: at once (no claim) for a small upload, or as the holder of the
    background job's claim, whose every write renews the lease and stops when the claim was lost."""
    def write(**values):
        if claim is None:
            RosterImport.objects.filter(pk=roster_import.pk).update(**values)
        elif not job_renew(RosterImport, roster_import.pk, claim, **values):
            raise LeaseLost

    def finish(**values):
        if claim is None:
            RosterImport.objects.filter(pk=roster_import.pk).update(**values)
        elif not job_finish(RosterImport, roster_import.pk, claim, **values):
            raise LeaseLost

    roster = roster_read(data, roster_import.file_name, _known_codes_for(actor))
    if not roster.ok:
        finish(state=RosterImport.State.REFUSED, problems=[list(problem) for problem in roster.problems[:500]],
               finished_at=timezone.now())
        roster_import.refresh_from_db()
        return
    write(rows_total=len(roster.rows))

    def progress(done):
        write(rows_done=done)

    result = roster_reconcile(actor=actor, rows=roster.rows, progress=progress)
    finish(state=RosterImport.State.DONE, rows_done=len(roster.rows), result=result.as_json(),
           finished_at=timezone.now())
    roster_import.refresh_from_db()


def roster_result_accounts(roster_import: RosterImport) -> dict[int, User]:
    ids = set(roster_import.result.get("orphans", []))
    ids |= {item["account"] for item in roster_import.result.get("left_active", [])}
    return {account.pk: account for account in User.objects.filter(pk__in=ids).select_related("unit")}


def roster_imports_recent(user, limit: int = 10):
    """The reader's latest uploads (it_admin: everyone's), newest first."""
    return scope.roster_imports_visible_to(user).select_related("uploaded_by")[:limit]


# A turnover request holds at most this many lines (accounts.forms.turnover.TurnoverLineFormSet).
TURNOVER_LINES_MAX = 50
_USERNAME_UNSAFE = re.compile(r"[^a-z0-9]")


def username_propose(full_name: str, taken: set[str]) -> str:
    """“Đỗ Thị Mới” → “moi.dt” (the given name, then the initials of the others, without accents), with
    a number when taken. Only a proposal: the leader may change it, the service checks it again."""
    words = [_USERNAME_UNSAFE.sub("", word) for word in fold(full_name).split()]
    words = [word for word in words if word]
    if not words:
        base = "canbo"
    else:
        base = words[-1] + ("." + "".join(word[0] for word in words[:-1]) if len(words) > 1 else "")
    base = (base + "000")[:max(len(base), 3)][:60]
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}{number}"
    taken.add(candidate)
    return candidate


def roster_turnover_lines(*, actor, roster_import: RosterImport, orphans=(), left=(), newcomers=()) -> list[dict]:
    """The chosen findings of a finished reconciliation as turnover request lines, rebuilt from the
    stored result (the page posts only account ids and roster line numbers, never names): disable the
    orphans (not on the roster: they left) and the departed officers (the roster's status is the
    reason), create accounts for the officers without one (a proposed username)."""
    ensure_may_reconcile(actor)
    if roster_import.state != RosterImport.State.DONE:
        raise DomainError(_("This reconciliation has not finished."), code="roster_not_done")
    result = roster_import.result
    orphans, left, newcomers = set(orphans), set(left), set(newcomers)
    if not (orphans or left or newcomers):
        raise PolicyViolation(_("Choose at least one line."), code="roster_nothing_chosen")
    left_rows = {item["row"]["line"]: item for item in result.get("left_active", [])}
    new_rows = {row["line"]: row for row in result.get("without_account", [])}
    if not (orphans <= set(result.get("orphans", [])) and left <= set(left_rows) and newcomers <= set(new_rows)):
        raise PolicyViolation(_("Some chosen lines are not in this reconciliation; reload the page."),
                              code="roster_unknown_line")
    if len(orphans) + len(left) + len(newcomers) > TURNOVER_LINES_MAX:
        raise PolicyViolation(_("One request holds at most %(max)d lines; choose fewer and file the rest in "
                                "another request.") % {"max": TURNOVER_LINES_MAX}, code="roster_too_many")
    wanted = orphans | {left_rows[line]["account"] for line in left}
    accounts = {account.pk: account for account in
                scope.accounts_visible_to(actor).filter(pk__in=wanted, is_active=True).select_related("unit")}
    lines = []
    for pk in sorted(orphans, key=lambda pk: (getattr(accounts.get(pk), "username", ""), pk)):
        if pk in accounts:
            lines.append({"action": TurnoverAction.DISABLE, "account": accounts[pk],
                          "departure_reason": DepartureReason.LEFT})
    transfer_units = {unit.code: unit for unit in scope.units_visible_to(actor).filter(
        code__in={left_rows[line]["row"]["unit_code"] for line in left}, state="active")}
    for line in sorted(left):
        item = left_rows[line]
        account = accounts.get(item["account"])
        if account is None:
            continue
        if item["row"]["status"] == TRANSFERRED:
            # A transfer within the province is a move: the account keeps its history and goes to the
            # new unit (the roster's, when it names another one; else the leader chooses it on the form).
            target = transfer_units.get(item["row"]["unit_code"])
            lines.append({"action": TurnoverAction.MOVE, "account": account,
                          "new_unit": target if target is not None and target.pk != account.unit_id else None})
        else:
            lines.append({"action": TurnoverAction.DISABLE, "account": account,
                          "departure_reason": item["row"]["status"]})
    units = {unit.code: unit for unit in scope.units_visible_to(actor).filter(
        code__in={new_rows[line]["unit_code"] for line in newcomers})}
    taken = set(User.objects.filter(username__regex=_username_prefixes(
        [new_rows[line]["full_name"] for line in newcomers])).values_list("username", flat=True)) if newcomers else set()
    for line in sorted(newcomers):
        row = new_rows[line]
        lines.append({"action": TurnoverAction.CREATE, "full_name": row["full_name"], "email": row["email"],
                      "phone": row["phone"], "new_unit": units.get(row["unit_code"]),
                      "username": username_propose(row["full_name"], taken)})
    if not lines:
        raise DomainError(_("The chosen accounts have been disabled already; nothing is left to request."),
                          code="roster_nothing_left")
    return lines


def _username_prefixes(names) -> str:
    """One regular expression for the usernames a proposal could collide with (one query)."""
    bases = {username_propose(name, set()) for name in names}
    return r"\A(" + "|".join(re.escape(base) for base in sorted(bases)) + r")[0-9]*\Z"
