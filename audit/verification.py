"""Verification: recompute every seal and its records, as `manage.py audit_verify` prints it and the
inspector's page shows it. It reads like CloudTrail's `validate-logs` — the range requested and the
range found, "N/N seals valid", "M/M records covered", one line per problem — and goes further where
CloudTrail is weak: a gap in the chain is a problem, never a silent restart, each record that changed,
went missing or was added inside a sealed block is named, and the public key alone checks every
signature.

What the chain legitimately lacks is known from sealed, signed retention events (audit/retention.py):
the seals those name keep being checked, their records are not expected any more.

Seals alone do not catch a chain cut and re-grown by whoever can rewrite the seal table; the heads kept
outside the database do (audit/heads.py): each kept head must still be in the chain, unchanged, and
each verification run kept there must still be in the history. The newest run recorded in the
database is compared too: its heads must still be in the chain. Every id is read: records at or below
0 (which no seal ever covers) and records dated well before a record with a lower id (a forged,
back-dated record appended at the end) are reported."""
import base64
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from . import heads as kept_heads
from .canonical import GENESIS, TAG_BYTES, RecordLayout, block_hasher, leaf_hash, seal_chain, seal_message, signed_bytes
from .keys import hmac_key, known_public_keys, signature_valid
from .models import Seal, SealVerification
from .retention import retention_of
from .sealing import FETCH_ROWS, sealed_tables

MAX_PROBLEMS = 1000  # per table; the count of the rest is kept

# The kinds of problem, as the report names them.
RECORD_CHANGED = "record_changed"
RECORD_MISSING = "record_missing"
RECORD_ADDED = "record_added"
BLOCK_DIGEST = "block_digest_mismatch"
SEAL_MISSING = "seal_missing"
SEAL_OUT_OF_ORDER = "seal_out_of_order"
SEAL_CHANGED = "seal_changed"
CHAIN_BROKEN = "chain_broken"
SIGNATURE_FAILED = "signature_failed"
UNKNOWN_KEY = "unknown_key"
UNSEALED_TAIL = "unsealed_tail"
COLUMN_MISSING = "column_missing"
RECORD_OUTSIDE = "record_outside_chain"
RECORD_BACKDATED = "record_backdated"
RECORD_FUTURE = "record_future_dated"
HEAD_MISSING = "head_missing"
HEAD_CHANGED = "head_changed"
VERIFICATION_MISSING = "verification_missing"
VERIFICATION_CHANGED = "verification_changed"
HISTORY = "audit_sealverification"


@dataclass
class Problem:
    kind: str
    table: str
    message: str
    position: int | None = None
    record_id: int | None = None


@dataclass
class TableReport:
    table: str
    seals_checked: int = 0
    seals_valid: int = 0
    records_expected: int = 0
    records_valid: int = 0
    records_removed_by_retention: int = 0
    retention_through_position: int = 0
    first_position: int | None = None
    last_position: int | None = None
    found_from: str | None = None
    found_to: str | None = None
    unsealed_records: int = 0
    head_position: int | None = None
    head_chain: str | None = None
    heads_kept: int = 0
    heads_valid: int = 0
    problems: list = field(default_factory=list)
    problems_not_listed: int = 0

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.problems_not_listed += 1

    @property
    def ok(self) -> bool:
        return not self.problems and not self.problems_not_listed


@dataclass
class VerificationReport:
    requested_from: str | None
    requested_to: str | None
    tables: list
    started_at: str
    finished_at: str = ""
    public_key: str = "portal"
    heads_sources: list = field(default_factory=list)
    verifications_kept: int = 0
    verifications_valid: int = 0
    history_problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(table.ok for table in self.tables) and not self.history_problems

    @property
    def first_problem(self) -> Problem | None:
        for table in self.tables:
            if table.problems:
                return table.problems[0]
        return self.history_problems[0] if self.history_problems else None

    def totals(self) -> dict:
        return {name: sum(getattr(table, name) for table in self.tables)
                for name in ("seals_checked", "seals_valid", "records_expected", "records_valid")}

    def as_json(self) -> dict:
        return {"ok": self.ok, "requested_from": self.requested_from, "requested_to": self.requested_to,
                "started_at": self.started_at, "finished_at": self.finished_at, "public_key": self.public_key,
                **self.totals(), "first_problem": asdict(self.first_problem) if self.first_problem else None,
                "tables": [{**asdict(table), "ok": table.ok} for table in self.tables],
                "heads_sources": self.heads_sources, "verifications_kept": self.verifications_kept,
                "verifications_valid": self.verifications_valid,
                "history_problems": [asdict(problem) for problem in self.history_problems]}


def _iso(moment):
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


# ----- the chain -------------------------------------------------------------------------------------

def _message(seal: Seal) -> bytes:
    return seal_message(table=seal.table_name, position=seal.position, first_id=seal.first_id, last_id=seal.last_id,
                        row_count=seal.row_count, gaps=seal.gaps, columns=seal.columns,
                        first_record_at=seal.first_record_at, last_record_at=seal.last_record_at,
                        digest=seal.digest, sealed_at=seal.sealed_at, previous_chain=seal.previous_chain,
                        key_id=seal.key_id)


def seal_problems(seal: Seal, previous: Seal | None, *, public_key=None) -> list[Problem]:
    """What is wrong with one seal itself: its place in the chain, its HMAC, its signature."""
    table, problems = seal.table_name, []
    expected_position = previous.position + 1 if previous else 1
    if seal.position != expected_position:
        missing = (f"seal {expected_position}" if expected_position == seal.position - 1
                   else f"seals {expected_position}–{seal.position - 1}")
        problems.append(Problem(SEAL_MISSING, table, f"{missing} missing before seal {seal.position}",
                                position=seal.position))
    expected_first = previous.last_id + 1 if previous else 1
    if seal.first_id != expected_first:
        problems.append(Problem(SEAL_OUT_OF_ORDER, table, f"seal {seal.position} starts at id {seal.first_id}, "
                                f"expected {expected_first}", position=seal.position))
    if seal.previous_chain != (previous.chain if previous else GENESIS):
        problems.append(Problem(CHAIN_BROKEN, table, f"chain broken at seal {seal.position}: it does not follow "
                                f"seal {previous.position if previous else 0}", position=seal.position))
    message = _message(seal)
    key = hmac_key(seal.key_id)
    if key is None:
        problems.append(Problem(UNKNOWN_KEY, table, f"seal {seal.position} made with unknown key {seal.key_id}",
                                position=seal.position))
    elif seal_chain(key, message) != seal.chain:
        problems.append(Problem(SEAL_CHANGED, table, f"seal {seal.position} changed: its HMAC does not match",
                                position=seal.position))
    verifying_key = public_key or known_public_keys().get(seal.signing_key_id)
    try:
        signature = bytes.fromhex(seal.signature)
    except ValueError:
        signature = b""
    if verifying_key is None or not signature_valid(verifying_key, signature, signed_bytes(message, seal.chain)):
        problems.append(Problem(SIGNATURE_FAILED, table, f"seal {seal.position}: signature failed",
                                position=seal.position))
    return problems


# ----- the records ----------------------------------------------------------------------------------

def _expected_ids(seal: Seal) -> Iterator[int]:
    start = seal.first_id
    for gap_start, gap_end in seal.gaps:
        yield from range(start, gap_start)
        start = gap_end + 1
    yield from range(start, seal.last_id + 1)


class _SealCheck:
    """The records of one seal, compared as they stream by in id order."""

    def __init__(self, seal: Seal, report: TableReport, excused):
        self.seal, self.report, self.excused = seal, report, excused
        self.expected = _expected_ids(seal)
        self.next_expected = next(self.expected, None)
        self.index = 0  # ordinal of the next expected record, for its tag
        self.hasher = block_hasher()
        self.row_problems = 0
        self.valid = 0
        self.tags = bytes(seal.row_tags)

    def _missing(self, record_id: int) -> None:
        if record_id in self.excused:
            self.report.records_removed_by_retention += 1
        else:
            self._problem(RECORD_MISSING, f"record {record_id} missing from seal {self.seal.position}", record_id)
        self.index += 1

    def _problem(self, kind: str, message: str, record_id: int) -> None:
        self.row_problems += 1
        self.report.add(Problem(kind, self.seal.table_name, message, position=self.seal.position,
                                record_id=record_id))

    def row(self, record_id: int, record: bytes, time_problem: tuple[str, str] | None = None) -> None:
        while self.next_expected is not None and self.next_expected < record_id:
            self._missing(self.next_expected)
            self.next_expected = next(self.expected, None)
        if self.next_expected != record_id:
            # In a gap, or a second row with an id already seen (the partitioned table's key is
            # (id, decided_at): the database no longer keeps ids unique on its own).
            self._problem(RECORD_ADDED, f"record {record_id} added inside seal {self.seal.position}", record_id)
            return
        leaf = leaf_hash(record)
        self.hasher.update(leaf)
        start = self.index * TAG_BYTES
        if leaf[:TAG_BYTES] != self.tags[start:start + TAG_BYTES]:
            self._problem(RECORD_CHANGED, f"record {record_id} changed (seal {self.seal.position})", record_id)
        elif time_problem:
            kind, text = time_problem
            self._problem(kind, f"record {record_id} (seal {self.seal.position}) {text}", record_id)
        else:
            self.valid += 1
        self.index += 1
        self.next_expected = next(self.expected, None)

    def finish(self) -> bool:
        while self.next_expected is not None:
            self._missing(self.next_expected)
            self.next_expected = next(self.expected, None)
        self.report.records_valid += self.valid
        if self.row_problems:
            return False
        if self.excused.overlaps(self.seal.first_id, self.seal.last_id):
            return True  # records legitimately removed: the digest cannot be recomputed, the rest matched
        if self.hasher.hexdigest() != self.seal.digest:
            self.report.add(Problem(BLOCK_DIGEST, self.seal.table_name,
                                    f"seal {self.seal.position}: digest of its records does not match",
                                    position=self.seal.position))
            return False
        return True


def _records_check(table: str, seals: list[Seal], report: TableReport, excused) -> set[int]:
    """Stream the records of the seals' whole id range once, in id order; the positions whose records
    are all as sealed."""
    valid = set()
    if not seals:
        return valid
    pending = iter(seals[1:])
    check = _SealCheck(seals[0], report, excused)
    layouts, id_index, time_index = {}, None, None
    # The latest time among the records read so far, and its record: a record dated more than the
    # allowed skew before it runs backwards (ids are drawn at insert, just after the time is taken).
    latest_time, latest_id = None, None
    skew = timedelta(minutes=settings.AUDIT_TIME_BACKWARDS_MINUTES)
    future = timezone.now() + skew
    with transaction.atomic(), connection.connection.cursor(name=f"verify_{table}") as cursor:
        cursor.itersize = FETCH_ROWS
        quote = connection.ops.quote_name  # then by time: a copy of a row with a later time comes second
        cursor.execute(f"SELECT * FROM {quote(table)} WHERE id >= %s AND id <= %s"
                       f" ORDER BY id, {quote(sealed_tables()[table])}", [seals[0].first_id, seals[-1].last_id])
        for row in cursor:
            if id_index is None:
                names = [column.name for column in cursor.description]
                id_index, time_index = names.index("id"), names.index(sealed_tables()[table])
            record_id = row[id_index]
            while check is not None and record_id > check.seal.last_id:
                if check.finish():
                    valid.add(check.seal.position)
                following = next(pending, None)
                check = _SealCheck(following, report, excused) if following is not None else None
            if check is None:
                break
            if record_id < check.seal.first_id:
                continue  # between two seals checked (a --from/--to window): not asked for
            layout = layouts.get(tuple(check.seal.columns))
            if layout is None:
                layout = layouts[tuple(check.seal.columns)] = RecordLayout(cursor.description, check.seal.columns)
                for name in layout.missing:
                    report.add(Problem(COLUMN_MISSING, table, f"column {name} of seal {check.seal.position} "
                                       "no longer exists", position=check.seal.position))
            moment, time_problem = row[time_index], None
            if moment is not None and moment > future:
                # Dated ahead of now: reported itself, and not taken as the time the next records follow.
                time_problem = (RECORD_FUTURE, f"dated {_iso(moment)}, in the future: its time is forged")
            elif latest_time is not None and moment is not None and moment < latest_time - skew:
                time_problem = (RECORD_BACKDATED, f"dated {_iso(moment)}, before record {latest_id} dated "
                                f"{_iso(latest_time)}: its time runs backwards")
            elif moment is not None and (latest_time is None or moment > latest_time):
                latest_time, latest_id = moment, record_id
            check.row(record_id, layout.record(row), time_problem)
    while check is not None:
        if check.finish():
            valid.add(check.seal.position)
        following = next(pending, None)
        check = _SealCheck(following, report, excused) if following is not None else None
    return valid


def _records_outside(table: str, report: TableReport) -> None:
    """Records with an id at or below 0: no seal ever starts below 1, so only a hand insert puts one there."""
    quoted = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quoted(table)} WHERE id < 1")
        count = cursor.fetchone()[0]
        if not count:
            return
        cursor.execute(f"SELECT id FROM {quoted(table)} WHERE id < 1 ORDER BY id LIMIT %s", [MAX_PROBLEMS])
        for (record_id,) in cursor.fetchall():
            report.add(Problem(RECORD_OUTSIDE, table, f"record {record_id} lies outside the chain (ids start at 1): "
                               "added by hand", record_id=record_id))
    report.problems_not_listed += max(0, count - MAX_PROBLEMS)


def _heads_check(table: str, seals: list[Seal], kept: list[tuple[dict, str]], report: TableReport) -> None:
    """Every head kept outside the database (or by the previous verification run) must still be in the
    chain, with the same chain value: one kept and gone means the chain was cut (and maybe re-grown)."""
    by_position = {seal.position: seal for seal in seals}
    end = seals[-1].position if seals else 0
    for heads, source in kept:
        for position in sorted(heads.get(table, {})):
            chains = heads[table][position]
            for chain in ([chains] if isinstance(chains, str) else sorted(chains)):
                report.heads_kept += 1
                seal = by_position.get(position)
                if seal is None:
                    report.add(Problem(HEAD_MISSING, table, f"seal {position} kept in {source} (chain {chain[:16]}…) "
                                       f"is missing: the chain ends at seal {end}", position=position))
                elif seal.chain != chain:
                    report.add(Problem(HEAD_CHANGED, table, f"seal {position} differs from the head kept in {source} "
                                       f"(chain {chain[:16]}… kept, {seal.chain[:16]}… found)", position=position))
                else:
                    report.heads_valid += 1


def _unsealed_tail(table: str, time_column: str, sealed_through: int, report: TableReport, now) -> None:
    quoted = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), min({quoted(time_column)}), min(id) FROM {quoted(table)} WHERE id > %s",
                       [sealed_through])
        count, oldest, first_id = cursor.fetchone()
    report.unsealed_records = count
    limit = timedelta(minutes=settings.AUDIT_SEAL_MAX_LAG_MINUTES)
    if count and oldest < now - limit:
        report.add(Problem(UNSEALED_TAIL, table, f"{count} record(s) from id {first_id} unsealed, the oldest since "
                           f"{_iso(oldest)} (more than {settings.AUDIT_SEAL_MAX_LAG_MINUTES} minutes)",
                           record_id=first_id))


# ----- the service ----------------------------------------------------------------------------------

def table_verify(table: str, *, moment_from: datetime | None = None, moment_to: datetime | None = None,
                 public_key=None, retention=None, now=None, kept=()) -> TableReport:
    """Check one table's chain: every seal (the whole chain, or those of the records' times asked for,
    with the seal before them for the link), then its records and the unsealed tail."""
    now = now or timezone.now()
    report = TableReport(table=table)
    excused = retention if retention is not None else retention_of(table)
    excused_through = excused.through_position
    report.retention_through_position = excused_through
    seals = list(Seal.objects.filter(table_name=table).order_by("position"))
    in_range = [seal for seal in seals
                if (moment_from is None or (seal.last_record_at or seal.sealed_at) >= moment_from)
                and (moment_to is None or (seal.first_record_at or seal.sealed_at) < moment_to)]
    by_position = {seal.position: seal for seal in seals}
    valid_positions = set()
    for seal in in_range:
        previous = None
        if seal.position > 1:
            previous = by_position.get(seal.position - 1) or max(
                (other for other in seals if other.position < seal.position), key=lambda other: other.position,
                default=None)
        problems = seal_problems(seal, previous, public_key=public_key)
        for problem in problems:
            report.add(problem)
        if not problems:
            valid_positions.add(seal.position)
    to_read = [seal for seal in in_range if seal.position > excused_through]
    for seal in in_range:
        if seal.position <= excused_through:
            report.records_removed_by_retention += seal.row_count
    removed_before = report.records_removed_by_retention
    records_valid = _records_check(table, to_read, report, excused)
    # Records of later seals that retention removed (a month's edge) are no longer expected either.
    report.records_expected = sum(seal.row_count for seal in to_read) - (
        report.records_removed_by_retention - removed_before)
    report.seals_checked = len(in_range)
    report.seals_valid = len([seal for seal in in_range if seal.position in valid_positions
                              and (seal.position <= excused_through or seal.position in records_valid)])
    if in_range:
        report.first_position, report.last_position = in_range[0].position, in_range[-1].position
        report.found_from = _iso(min((seal.first_record_at or seal.sealed_at) for seal in in_range))
        report.found_to = _iso(max((seal.last_record_at or seal.sealed_at) for seal in in_range))
    if seals:
        report.head_position, report.head_chain = seals[-1].position, seals[-1].chain
    _heads_check(table, seals, list(kept), report)
    if moment_from is None:
        _records_outside(table, report)
    if moment_to is None:
        _unsealed_tail(table, sealed_tables()[table], seals[-1].last_id if seals else 0, report, now)
    return report


def _previous_run_heads(previous: SealVerification | None) -> dict:
    """The heads the newest recorded run found ({table: {position: {chain}}}), if it recorded them."""
    heads = {}
    for table in (previous.report.get("tables", []) if previous else []):
        if isinstance(table.get("head_position"), int) and isinstance(table.get("head_chain"), str):
            heads[table.get("table")] = {table["head_position"]: {table["head_chain"]}}
    return heads


def _history_check(kept: list, report: VerificationReport) -> None:
    """Each verification run kept outside the database must still be in the history, unchanged."""
    entries = [entry for heads in kept for entry in heads.verifications]
    present = {run.pk: run for run in SealVerification.objects.filter(pk__in={entry["id"] for entry in entries})}
    for entry in entries:
        report.verifications_kept += 1
        run = present.get(entry["id"])
        if run is None:
            problem = Problem(VERIFICATION_MISSING, HISTORY, f"verification run {entry['id']} of "
                              f"{entry.get('finished_at')} is missing from the history", record_id=entry["id"])
        elif run.finished_at.isoformat() != entry.get("finished_at") or run.ok != entry.get("ok"):
            problem = Problem(VERIFICATION_CHANGED, HISTORY, f"verification run {entry['id']} differs from the one "
                              "kept outside the database", record_id=entry["id"])
        else:
            report.verifications_valid += 1
            continue
        if len(report.history_problems) < MAX_PROBLEMS:
            report.history_problems.append(problem)


def heads_default() -> list:
    """The portal's own heads file, when it is set up and exists."""
    path = kept_heads.heads_path()
    return [kept_heads.KeptHeads.read(path)] if path is not None and path.exists() else []


def chain_verify(*, tables=None, day_from=None, day_to=None, public_key=None, actor_username: str,
                 record: bool = True, heads=None) -> VerificationReport:
    """Verify the chains of the tables (all sealed tables by default) for the days asked (local dates,
    inclusive) against the heads kept outside the database (the portal's heads file, or the
    KeptHeads given) and the newest recorded run, record the run (the inspector's page shows the
    latest; the heads file keeps it too) and return the report."""
    kept = heads_default() if heads is None else list(heads)
    previous = SealVerification.objects.order_by("-id").first()
    sources = [(heads_file.seals, heads_file.source) for heads_file in kept]
    for heads_file in kept:
        for entry in heads_file.verifications:
            run_heads = {table: {value[0]: {value[1]}} for table, value in (entry.get("heads") or {}).items()
                         if isinstance(value, list) and len(value) == 2}
            sources.append((run_heads, f"verification run {entry['id']} ({heads_file.source})"))
    if previous is not None:
        sources.append((_previous_run_heads(previous), f"verification run {previous.pk}"))
    started = timezone.now()
    moment_from = _day_start(day_from) if day_from else None
    moment_to = _day_start(day_to + timedelta(days=1)) if day_to else None
    report = VerificationReport(requested_from=day_from.isoformat() if day_from else None,
                                requested_to=day_to.isoformat() if day_to else None, tables=[],
                                started_at=_iso(started),
                                public_key=_public_key_label(public_key),
                                heads_sources=[heads_file.source for heads_file in kept])
    for table in tables or sealed_tables():
        report.tables.append(table_verify(table, moment_from=moment_from, moment_to=moment_to,
                                          public_key=public_key, now=started, kept=sources))
    _history_check(kept, report)
    finished = timezone.now()
    report.finished_at = _iso(finished)
    if record:
        totals = report.totals()
        first = report.first_problem
        run = SealVerification.objects.create(
            started_at=started, finished_at=finished, actor_username=actor_username, ok=report.ok,
            seals_checked=totals["seals_checked"], seals_valid=totals["seals_valid"],
            records_checked=totals["records_expected"], records_valid=totals["records_valid"],
            first_problem=first.message if first else "", report=report.as_json())
        checked = {table.table: [table.head_position, table.head_chain] for table in report.tables
                   if table.head_position is not None}
        kept_heads.heads_append([kept_heads.verification_head(run, checked)])
    return report


def _public_key_label(public_key) -> str:
    if public_key is None:
        return "portal"
    from .keys import public_key_raw

    return base64.b64encode(public_key_raw(public_key)).decode()


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _day_shown(iso_day: str | None) -> str | None:
    return datetime.strptime(iso_day, "%Y-%m-%d").strftime("%d/%m/%Y") if iso_day else None


def report_lines(report: VerificationReport) -> list[str]:
    """The report as audit_verify prints it (CloudTrail's validate-logs, per table)."""
    if report.requested_from or report.requested_to:
        lines = [f"Results requested for {_day_shown(report.requested_from) or 'the first record'} to "
                 f"{_day_shown(report.requested_to) or 'now'}"]
    else:
        lines = ["Results requested for every record sealed"]
    lines.append(f"Public key: {'the portal’s signing keys' if report.public_key == 'portal' else report.public_key}")
    lines.append(f"Heads kept outside the database: {', '.join(report.heads_sources) or 'none given'}")
    for table in report.tables:
        lines.append("")
        if table.seals_checked:
            lines.append(f"{table.table}: results found for seals {table.first_position} to {table.last_position}, "
                         f"records from {table.found_from} to {table.found_to}")
        else:
            lines.append(f"{table.table}: no seal found in the range")
        lines.append(f"{table.seals_valid}/{table.seals_checked} seals valid")
        lines.append(f"{table.records_valid}/{table.records_expected} records covered")
        if table.retention_through_position or table.records_removed_by_retention:
            kept = (f" (seals 1 to {table.retention_through_position} keep no records)"
                    if table.retention_through_position else "")
            lines.append(f"{table.records_removed_by_retention} records removed by retention{kept}")
        lines.append(f"{table.unsealed_records} records not sealed yet")
        if table.heads_kept:
            lines.append(f"{table.heads_valid}/{table.heads_kept} kept heads found")
        for problem in table.problems:
            lines.append(f"  INVALID {problem.kind}: {problem.table} {problem.message}")
        if table.problems_not_listed:
            lines.append(f"  … and {table.problems_not_listed} more problems")
    if report.verifications_kept or report.history_problems:
        lines.append("")
        lines.append(f"Verification history: {report.verifications_valid}/{report.verifications_kept} kept runs found")
        for problem in report.history_problems:
            lines.append(f"  INVALID {problem.kind}: {problem.message}")
    lines.append("")
    first = report.first_problem
    if first is None:
        lines.append("Result: every seal and record valid")
    else:
        lines.append(f"Result: INVALID — first problem: {first.table} {first.message}")
    return lines


# ----- the problems, as the inspector's page says them ----------------------------------------------

def _labels():
    from django.utils.translation import gettext_lazy as _

    tables = {"audit_securityevent": _("Security events"), "lookups_lookuprecord": _("Lookup log")}
    problems = {
        RECORD_CHANGED: _("Record %(record)s of the %(log)s was changed (seal no. %(position)s)."),
        RECORD_MISSING: _("Record %(record)s of the %(log)s is missing from seal no. %(position)s."),
        RECORD_ADDED: _("Record %(record)s of the %(log)s was added inside seal no. %(position)s."),
        BLOCK_DIGEST: _("The records of seal no. %(position)s of the %(log)s do not match its digest."),
        SEAL_MISSING: _("A seal of the %(log)s is missing before seal no. %(position)s."),
        SEAL_OUT_OF_ORDER: _("Seal no. %(position)s of the %(log)s does not follow the seal before it."),
        SEAL_CHANGED: _("Seal no. %(position)s of the %(log)s was changed: its HMAC does not match."),
        CHAIN_BROKEN: _("The chain of the %(log)s is broken at seal no. %(position)s."),
        SIGNATURE_FAILED: _("The signature of seal no. %(position)s of the %(log)s is not valid."),
        UNKNOWN_KEY: _("Seal no. %(position)s of the %(log)s was made with an unknown key."),
        UNSEALED_TAIL: _("Records of the %(log)s from id %(record)s have waited too long for their seal."),
        COLUMN_MISSING: _("A column sealed in seal no. %(position)s of the %(log)s no longer exists."),
        RECORD_OUTSIDE: _("Record %(record)s of the %(log)s lies outside the chain: it was added by hand."),
        RECORD_BACKDATED: _("Record %(record)s of the %(log)s is dated before the records preceding it "
                            "(seal no. %(position)s): its time runs backwards."),
        RECORD_FUTURE: _("Record %(record)s of the %(log)s is dated in the future (seal no. %(position)s): its "
                         "time is forged."),
        HEAD_MISSING: _("Seal no. %(position)s of the %(log)s, kept outside the database, is missing: "
                        "the chain was cut."),
        HEAD_CHANGED: _("Seal no. %(position)s of the %(log)s differs from the one kept outside the "
                        "database: the chain was rewritten."),
        VERIFICATION_MISSING: _("Verification run no. %(record)s is missing from the verification history."),
        VERIFICATION_CHANGED: _("Verification run no. %(record)s differs from the one kept outside the database."),
    }
    return tables, problems


def problem_text(problem: dict | None) -> str:
    """One problem of a report (its JSON form) in the reader's language."""
    if not problem:
        return ""
    tables, problems = _labels()
    text = problems.get(problem.get("kind"))
    if text is None:
        return problem.get("message", "")
    log = str(tables.get(problem.get("table"), problem.get("table", ""))).lower()
    return text % {"record": problem.get("record_id"), "position": problem.get("position"), "log": log}
