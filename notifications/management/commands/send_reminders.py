"""manage.py send_reminders [--dry-run]: the reminder pass now, in the foreground (what the daily job
runs), with its e-mails sent here too; prints what it sent, or with --dry-run what it would send."""
from django.core.management.base import BaseCommand

from accounts.models import User
from notifications.delivery import deliveries_send
from notifications.outbox import DELIVERY_CHUNK
from notifications.reminders import reminders_send
from portal.audit_context import audit_context


def _threshold_text(threshold: int) -> str:
    return "expired" if threshold == 0 else f"{threshold} day(s) before expiry"


class Command(BaseCommand):
    help = "Send the password expiry reminders due now (each once per account, threshold and password)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only print what would be sent.")

    def handle(self, *args, dry_run=False, **options):
        with audit_context():
            result = reminders_send(dry_run=dry_run, dispatch=False)
            self._print_notices(result.notices)
            verb = "Would send" if dry_run else "Queued"
            counts = ", ".join(f"{_threshold_text(t)}: {n}" for t, n in result.count_by_threshold().items())
            self.stdout.write(f"{verb} {len(result.notices)} reminder(s){': ' + counts if counts else ''}.")
            if dry_run:
                return
            sent = retrying = failed = 0
            ready = [pk for pk, (_a, _t, by_email) in zip(result.notice_ids, result.notices) if by_email]
            for start in range(0, len(ready), DELIVERY_CHUNK):
                delivery = deliveries_send(ready[start:start + DELIVERY_CHUNK])
                sent, retrying, failed = (sent + len(delivery.sent), retrying + len(delivery.retrying),
                                          failed + len(delivery.failed))
            self.stdout.write(f"E-mails sent: {sent}; to retry: {retrying}; failed: {failed}.")

    def _print_notices(self, notices):
        ids = [account for account, _t, _e in notices]
        usernames = {}
        for start in range(0, len(ids), 5000):
            usernames.update(User.objects.filter(pk__in=ids[start:start + 5000]).values_list("pk", "username"))
        for account, threshold, by_email in sorted(notices, key=lambda n: usernames.get(n[0], "")):
            channel = "e-mail and in-app" if by_email else "in-app"
            self.stdout.write(f"{usernames.get(account, account)}\t{_threshold_text(threshold)}\t{channel}")
