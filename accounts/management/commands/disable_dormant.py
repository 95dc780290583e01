"""docs/architecture.md `disable_dormant`: the dormant-account pass now, in the foreground (what the daily job runs)."""
from django.core.management.base import BaseCommand

from accounts.services.dormancy import dormant_accounts_disable
from portal.actors import SystemActor
from portal.audit_context import audit_context


class Command(BaseCommand):
    help = ("Disable every active account without a sign-in for the policy's days (45), counted from its "
            "creation or re-enabling when it never signed in; exempted service accounts and the last active IT "
            "admin are kept. Prints what it disabled; a second run changes nothing.")

    def handle(self, *args, **options):
        with audit_context():
            disabled = dormant_accounts_disable(actor=SystemActor("dormant_job"))
        for account in disabled:
            self.stdout.write(f"disabled {account.username} ({account.unit.code})")
        self.stdout.write(f"{len(disabled)} dormant account(s) disabled.")
