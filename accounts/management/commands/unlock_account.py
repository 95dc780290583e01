"""The operator's break-glass from the server's shell: when every IT admin is locked out (or delayed),
nobody can unlock from the web page. Same service as the account page's "Unlock", recorded as the
system actor `command_line` with the operator's reason."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, normalise_username
from accounts.services.lifecycle import account_unlock
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Clear the lockout of an account (its failed-login counter); the audit log names the command line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Why, for the audit log (e.g. the ticket number).")

    def handle(self, *args, **options):
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("Give a reason (--reason) for the audit log.")
        account = User.objects.filter(username=normalise_username(options["username"])).select_related("unit").first()
        if account is None:
            raise CommandError(f"No account with username {options['username']!r}.")
        try:
            with audit_context():
                cleared = account_unlock(actor=COMMAND_LINE, account=account, reason=reason)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(f"{account.username}: {cleared} failed-attempt record(s) cleared.")
