"""The operator's emergency stop from the server's shell (as FreeIPA's `ipa user-disable`)."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, normalise_username
from accounts.services.lifecycle import account_disable
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = ("Disable an account now: every session of it ends for good, its one-time password and lookup "
            "right are void, and an audit event names the operator. A second call changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why (kept in the audit event), e.g. the letter number.")

    def handle(self, *args, username, reason, **options):
        reason = reason.strip()
        if not reason:
            raise CommandError("Give a reason with --reason.")
        account = User.objects.filter(username=normalise_username(username)).first()
        if account is None:
            raise CommandError(f"No account {username!r}.")
        if not account.is_active:
            self.stdout.write(f"{account.username} is already disabled; nothing changed.")
            return
        try:
            with audit_context():
                account_disable(actor=COMMAND_LINE, account=account, reason=reason)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(f"{account.username} disabled; every session of it has ended.")
