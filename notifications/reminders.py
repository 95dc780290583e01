"""Password expiry reminders (letter point 3: change at least every 3 months), at the policy's
thresholds (default 14, 7, 3 and 1 days) and on expiry.

Better than FreeIPA's ipa-epn, which keeps no state (run twice it sends twice, skip a day and that
notice is lost): a threshold fires once per password when the days left have fallen to it or below
and no notice of that threshold or a smaller one was made for that password. So a run missed, or a
worker stopped for days, catches up with the threshold reached by now (never with a stale one passed
over), and a new password starts afresh (its change time is the notice's password version).

One pass over any number of accounts is a constant number of queries: the candidates are chosen, their
thresholds computed and their notices inserted by one INSERT … SELECT … ON CONFLICT DO NOTHING
(the expiry rule of policy.selectors as cutoffs, no date arithmetic per row), under a transaction
lock that keeps two passes from interleaving; the e-mails go to the delivery job in chunks."""
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, CharField, DateTimeField, Exists, F, IntegerField, JSONField, OuterRef, Value, When
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from policy.selectors import current_policy, password_reminder_due_q, password_reminder_threshold
from portal.locks import LockKey

from .choices import DeliveryState, NoticeKind
from .models import Notice
from .outbox import deliveries_dispatch_on_commit

# pg_advisory_xact_lock key of the pass: a second pass waits, then sees the first one's rows.
_PASS_LOCK_KEY = LockKey.REMINDER_PASS

# The INSERT's columns, in the order of the SELECT's values below.
_COLUMNS = ("recipient_id", "kind", "threshold", "password_version", "source_key", "context", "deadline",
            "created_at", "email_to", "email_state", "attempts", "last_error")


@dataclass
class ReminderPass:
    """What one pass made (or, dry, would make): notice ids and (account id, threshold, by e-mail)."""

    dry_run: bool
    notices: list[tuple[int, int, bool]] = field(default_factory=list)  # (account id, threshold, by e-mail)
    notice_ids: list[int] = field(default_factory=list)

    def count_by_threshold(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for _account, threshold, _email in self.notices:
            counts[threshold] = counts.get(threshold, 0) + 1
        return dict(sorted(counts.items(), reverse=True))


def _candidates(now, reminder_days: list[int]):
    """The accounts owed a reminder now, as the rows of their notices (one SELECT)."""
    policy = current_policy()
    officer_age = timedelta(days=policy.max_age_days)
    admin_age = timedelta(days=policy.max_age_days_admin)
    already = Notice.objects.filter(recipient=OuterRef("pk"), kind=NoticeKind.PASSWORD_EXPIRY,
                                    password_version=OuterRef("password_changed_at"),
                                    threshold__lte=OuterRef("n_threshold"))
    return (
        User.objects.filter(password_reminder_due_q(now, reminder_days))
        # Within the largest threshold (the filter above), so some threshold is always reached.
        .annotate(n_threshold=password_reminder_threshold(now, reminder_days))
        .filter(~Exists(already))
        .annotate(
            n_kind=Value(NoticeKind.PASSWORD_EXPIRY, output_field=CharField()),
            n_source=Value("", output_field=CharField()),
            n_context=Value({}, output_field=JSONField()),
            n_deadline=Case(
                When(role=Role.IT_ADMIN, then=F("password_changed_at") + Value(admin_age)),
                default=F("password_changed_at") + Value(officer_age), output_field=DateTimeField()),
            n_created=Value(now, output_field=DateTimeField()),
            n_state=Case(When(email="", then=Value(DeliveryState.NONE)), default=Value(DeliveryState.READY),
                         output_field=CharField()),
            n_attempts=Value(0, output_field=IntegerField()),
            n_error=Value("", output_field=CharField()),
        )
        .order_by()
        .values_list("pk", "n_kind", "n_threshold", "password_changed_at", "n_source", "n_context", "n_deadline",
                     "n_created", "email", "n_state", "n_attempts", "n_error")
    )


def reminders_send(*, now=None, dry_run: bool = False, dispatch: bool = True) -> ReminderPass:
    """The reminder pass. `dry_run` only reads what it would make; `dispatch=False` leaves the e-mails
    for the caller to send (manage.py send_reminders sends them in the foreground)."""
    now = now or timezone.now()
    reminder_days = current_policy().reminder_days
    result = ReminderPass(dry_run=dry_run)
    candidates = _candidates(now, reminder_days)
    if dry_run:
        result.notices = [(pk, threshold, state == DeliveryState.READY)
                          for pk, _k, threshold, _v, _s, _c, _d, _t, _e, state, _a, _r in candidates.iterator(chunk_size=5000)]
        return result
    select_sql, params = candidates.query.sql_with_params()
    table = connection.ops.quote_name(Notice._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _COLUMNS)
    # ON CONFLICT DO NOTHING: a notice made since the SELECT's snapshot is skipped by its unique key,
    # never doubled (belt and braces: the pass's lock below already serialises the passes).
    sql = (f"INSERT INTO {table} ({columns}) {select_sql} ON CONFLICT DO NOTHING "
           "RETURNING id, recipient_id, threshold, email_state")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PASS_LOCK_KEY])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        result.notice_ids = [row[0] for row in rows]
        result.notices = [(recipient, threshold, state == DeliveryState.READY) for _id, recipient, threshold, state in rows]
        if dispatch:
            deliveries_dispatch_on_commit([row[0] for row in rows if row[3] == DeliveryState.READY])
    return result
