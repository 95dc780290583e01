"""The sample population of `seed_demo` (issue: "a demo worth opening"): a few hundred officers in the
demo's wards and communes with realistic password ages — most fresh, some expiring this week, expired,
never changed, with an unused one-time password, dormant, locked —, two turnover requests (one past
its service level), a quarter of lookup history and the daily snapshots that go with it, so that the
dashboards of `make run` have something in them.

Deterministic (one seeded random generator, fixed names) and idempotent: officers that exist are left
as they are, lookups are added only for a quarter not seeded yet, and snapshots are unique per unit and
day. Sample officers have no usable password: they cannot sign in unless the IT Center resets them.
The four demo accounts are not touched."""
import hashlib
import random
from datetime import datetime, time, timedelta

from axes.models import AccessAttempt
from django.db import transaction
from django.utils import timezone

from accounts.choices import PasswordChangeReason, Role, TurnoverAction, TurnoverState, UnitKind, UnitState
from accounts.models import TurnoverLine, TurnoverRequest, Unit, User
from audit.choices import EventKind
from audit.partitions import partitions_ensure
from audit.services import audit_event_record
from lookups.models import LookupRecord
from policy.compliance import ComplianceReason, path_ancestors
from portal.actors import SEED_DEMO

from .models import UnitSnapshot
from .services import snapshot_take

SEED = 13
OFFICERS_PER_UNIT = (4, 8)
HISTORY_DAYS = 91
USERNAME_PREFIX = "mau."
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Ngọc", "Hữu", "Đức", "Thu", "Quốc", "Kim"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng", "Khánh", "Lan", "Linh",
         "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tú", "Vy", "Yến"]
LOCAL_UNITS = (UnitKind.WARD, UnitKind.COMMUNE, UnitKind.TOWN, UnitKind.DEPARTMENT)


def _profile(rng: random.Random, now):
    """One officer's password age and state, in proportions an IT Center sees in practice."""
    draw = rng.random()
    created = now - timedelta(days=rng.randint(200, 900))
    last_login = now - timedelta(hours=rng.randint(1, 24 * 20))
    fields = {"created_at": created, "last_login": last_login, "password_change_reason": PasswordChangeReason.NONE,
              "one_time_password_expires_at": None}
    if draw < 0.72:
        fields["password_changed_at"] = now - timedelta(days=rng.randint(1, 82))
    elif draw < 0.80:  # expires within the week
        fields["password_changed_at"] = now - timedelta(days=rng.randint(84, 89), hours=rng.randint(0, 20))
    elif draw < 0.88:  # expired
        fields["password_changed_at"] = now - timedelta(days=rng.randint(91, 240))
    elif draw < 0.91:  # never changed since the account was made
        fields["password_changed_at"] = None
    elif draw < 0.94:  # a one-time password nobody used
        fields.update(password_changed_at=None, password_change_reason=PasswordChangeReason.ONE_TIME,
                      one_time_password_expires_at=now - timedelta(days=rng.randint(1, 20)), last_login=None,
                      created_at=now - timedelta(days=rng.randint(4, 25)))
    else:  # dormant: no sign-in for more than 45 days
        fields.update(password_changed_at=now - timedelta(days=rng.randint(30, 200)),
                      last_login=now - timedelta(days=rng.randint(50, 150)))
    return fields


def _officers(rng, now) -> list[User]:
    units = list(Unit.objects.filter(kind__in=LOCAL_UNITS, state=UnitState.ACTIVE).order_by("code"))
    existing = set(User.objects.filter(username__startswith=USERNAME_PREFIX).values_list("username", flat=True))
    new = []
    for unit in units:
        for number in range(1, rng.randint(*OFFICERS_PER_UNIT) + 1):
            username = f"{USERNAME_PREFIX}{unit.code.replace('.', '')[:8].lower()}.{number:02d}"
            full_name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
            profile = _profile(rng, now)
            can_lookup = rng.random() < 0.45
            if username in existing:
                continue
            account = User(username=username, full_name=full_name, email=f"{username}@demo.dongnai.gov.vn",
                           unit=unit, role=Role.OFFICER, can_lookup=can_lookup, **profile)
            account.set_unusable_password()
            new.append(account)
    User.objects.bulk_create(new, batch_size=500)
    for account in new:
        audit_event_record(kind=EventKind.ACCOUNT_CREATED, actor=SEED_DEMO, target=account,
                           details={"new": {"role": account.role, "unit": account.unit.code}})
    return new


def _locked(rng, now) -> None:
    """Three officers locked out a few minutes ago (django-axes' counts: 15 minutes from the seeding)."""
    for account in User.objects.filter(username__startswith=USERNAME_PREFIX).order_by("username")[5:60:20]:
        AccessAttempt.objects.get_or_create(username=account.username, ip_address="10.19.31.15", user_agent="demo",
                                            defaults={"failures_since_start": 5, "attempt_time": now,
                                                      "get_data": "", "post_data": "", "http_accept": "",
                                                      "path_info": "/accounts/login/"})


def _turnover_requests(now) -> None:
    if TurnoverRequest.objects.filter(letter_number__in=("41/UBND-VP", "57/UBND-VP")).exists():
        return
    leader = User.objects.filter(username="demo.leader").first()
    officers = list(User.objects.filter(username__startswith=USERNAME_PREFIX, unit__path__startswith=(
        leader.unit.path if leader else "/"), is_active=True).order_by("username")[:3])
    if leader is None or len(officers) < 3:
        return
    for number, days_ago, accounts in (("41/UBND-VP", 9, officers[:2]), ("57/UBND-VP", 1, officers[2:3])):
        submitted = now - timedelta(days=days_ago)
        request = TurnoverRequest.objects.create(
            unit=leader.unit, unit_code=leader.unit.code, unit_name=leader.unit.name, state=TurnoverState.SUBMITTED,
            letter_number=number, letter_date=(submitted - timedelta(days=1)).date(), issuing_unit_name=leader.unit.name,
            signer_name=leader.full_name, signer_position="Chủ tịch", effective_date=(submitted - timedelta(days=1)).date(),
            created_by=leader, created_at=submitted, submitted_by=leader, submitted_at=submitted,
            due_at=submitted + timedelta(days=3))
        for account in accounts:
            TurnoverLine.objects.create(request=request, action=TurnoverAction.DISABLE, account=account,
                                        username=account.username, departure_reason="left")
        audit_event_record(kind=EventKind.TURNOVER_SUBMITTED, actor=SEED_DEMO, unit=leader.unit,
                           details={"turnover_request": request.pk, "due_at": request.due_at.isoformat()})


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def _lookups(rng, now) -> dict:
    """A quarter of lookups by the officers with the right (working days, office hours, up to yesterday),
    and a few lockouts; nothing when this quarter was seeded already. The records are written in the
    order of their times (the seals report a record dated before an earlier id: audit/verification.py),
    and the lockouts are only counted for the history's snapshots, never written as security events dated
    in the past. Returns {(day, unit_id): lockouts}."""
    today = timezone.localdate(now)
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    if LookupRecord.objects.filter(dossier_code__startswith="H19.DEMO", decided_at__gte=_day_start(first_day)).exists():
        return {}
    officers = list(User.objects.filter(username__startswith=USERNAME_PREFIX, can_lookup=True)
                    .select_related("unit").order_by("username"))
    # The lookup records are partitioned by month: the quarter's months.
    partitions_ensure(LookupRecord._meta.db_table, since=first_day.replace(day=1), through=today.replace(day=1))
    records, lockouts = [], {}
    for back in range(HISTORY_DAYS - 1, 0, -1):
        day = today - timedelta(days=back)
        if day.weekday() >= 5:
            continue
        for officer in officers:
            for _ in range(rng.randint(0, 4)):
                moment = _day_start(day) + timedelta(hours=rng.randint(7, 16), minutes=rng.randint(0, 59))
                if moment > now:
                    continue
                # Now and then an officer goes over a quota (about one officer in ten over the quarter).
                refused = rng.random() < 0.0012
                citizen = f"075{rng.randint(0, 9)}{rng.randint(50, 99)}{rng.randint(0, 999999):06d}"
                records.append(LookupRecord(
                    decided_at=moment, officer=officer, officer_username=officer.username, unit_id_then=officer.unit_id,
                    unit_code_then=officer.unit.code, dossier_code=f"H19.DEMO-{rng.randint(1, 99999):05d}",
                    purpose="Giải quyết hồ sơ", decision="refuse" if refused else "allow",
                    reason=rng.choice(["officer_minute", "officer_day"]) if refused else "",
                    citizen_id_hash=hashlib.sha256(f"demo:{citizen}".encode()).hexdigest(),
                    citizen_id_masked=citizen[:3] + "*******" + citizen[-2:], ip_address="10.19.31.15"))
        if rng.random() < 0.5 and officers:
            victim = rng.choice(officers)
            lockouts[(day, victim.unit_id)] = lockouts.get((day, victim.unit_id), 0) + 1
    records.sort(key=lambda record: record.decided_at)
    LookupRecord.objects.bulk_create(records, batch_size=2000)
    return lockouts


def _night_lookups(now) -> None:
    """Three lookups by one officer late last evening, judged by the portal's own anomaly rules (they
    flag lookups outside office hours), so that the anomaly job has flags to record in the security log
    and the IT Center's alerts have something to say; once."""
    from lookups.anomalies import anomaly_flags_write

    if LookupRecord.objects.filter(dossier_code="H19.DEMO-DEM").exists():
        return
    officer = (User.objects.filter(username__startswith=USERNAME_PREFIX, can_lookup=True, is_active=True)
               .select_related("unit").order_by("username").first())
    if officer is None:
        return
    evening = _day_start(timezone.localdate(now) - timedelta(days=1)) + timedelta(hours=21, minutes=5)
    partitions_ensure(LookupRecord._meta.db_table, since=evening.date().replace(day=1), through=evening.date().replace(day=1))
    for number in range(3):
        citizen = f"07509501{number:04d}"
        with transaction.atomic():
            record = LookupRecord.objects.create(
                decided_at=evening + timedelta(minutes=4 * number), officer=officer,
                officer_username=officer.username, unit_id_then=officer.unit_id, unit_code_then=officer.unit.code,
                dossier_code="H19.DEMO-DEM", purpose="Giải quyết hồ sơ", decision="allow",
                citizen_id_hash=hashlib.sha256(f"demo:{citizen}".encode()).hexdigest(),
                citizen_id_masked=citizen[:3] + "*******" + citizen[-2:], ip_address="10.19.31.15")
            anomaly_flags_write(record=record, officer=officer, quota=None)


def _subtree_sums(own: dict, paths: list[str]) -> dict:
    """{path: value} of each unit's own figure → {path: the sum over its subtree}."""
    sums = dict.fromkeys(paths, 0)
    for path, value in own.items():
        for ancestor in path_ancestors(path):
            if ancestor in sums:
                sums[ancestor] += value
    return sums


def _history_snapshots(rng, now, lockouts: dict) -> int:
    """The quarter's snapshots before today: today's real figures with the expired passwords the units
    have since put right added back (a trend that improves, unevenly across units), summed over each
    subtree as the job sums them; lookups and lockouts from each day's records."""
    today = timezone.localdate(now)
    current = {row.unit_id: row for row in UnitSnapshot.objects.filter(day=today)}
    paths = {row.unit_path: row for row in current.values()}
    first_day = today - timedelta(days=HISTORY_DAYS - 1)
    per_day = {}
    for moment, unit_id, decision in LookupRecord.objects.filter(
            decided_at__gte=_day_start(first_day), unit_id_then__in=list(current)).values_list(
            "decided_at", "unit_id_then", "decision").iterator():
        key = (timezone.localdate(moment), current[unit_id].unit_path, "lookups_allowed" if decision == "allow"
               else "lookups_refused")
        per_day[key] = per_day.get(key, 0) + 1
    for (day, unit_id), count in lockouts.items():
        if unit_id in current:
            key = (day, current[unit_id].unit_path, "lockouts")
            per_day[key] = per_day.get(key, 0) + count
    pace = {path: rng.uniform(0.05, 0.35) for path in sorted(paths)}
    rows = []
    for back in range(1, HISTORY_DAYS):
        day = today - timedelta(days=back)
        extra = _subtree_sums({path: row.accounts_own * pace[path] * back / HISTORY_DAYS
                               for path, row in paths.items()}, list(paths))
        activity = {name: _subtree_sums({path: per_day.get((day, path, name), 0) for path in paths}, list(paths))
                    for name in ("lookups_allowed", "lookups_refused", "lockouts")}
        for path, base in paths.items():
            added = min(round(extra[path]), base.accounts_compliant)
            rows.append(UnitSnapshot(
                day=day, unit_id=base.unit_id, unit_code=base.unit_code, unit_name=base.unit_name, unit_path=path,
                depth=base.depth, accounts_total=base.accounts_total, accounts_compliant=base.accounts_compliant - added,
                accounts_own=base.accounts_own,
                **{reason: getattr(base, reason) for reason in ComplianceReason.values},
                expiring_week=base.expiring_week, rules_not_judged=base.rules_not_judged,
                taken_at=_day_start(day) + timedelta(hours=23, minutes=40),
                **{name: activity[name][path] for name in activity}))
            rows[-1].password_expired += added
    return len(UnitSnapshot.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True))


@transaction.atomic
def demo_population_seed(now=None) -> dict:
    """Seed (or complete) the sample population; returns what it added."""
    now = now or timezone.now()
    rng = random.Random(SEED)
    created = _officers(rng, now)
    _locked(rng, now)
    _turnover_requests(now)
    lockouts = _lookups(random.Random(SEED + 1), now)
    _night_lookups(now)
    snapshot_take(actor=SEED_DEMO, now=now)
    history = _history_snapshots(random.Random(SEED + 2), now, lockouts)
    return {"officers": len(created), "snapshots": history}
