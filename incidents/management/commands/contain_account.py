"""Contain an account from the server's shell: the same service as the button (incidents.services)."""
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User, normalise_username
from incidents.services.containment import account_contain
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError

from ._containment import exit_code, incident_named, steps_write


class Command(BaseCommand):
    help = ("Contain an account now: every session ends, it must change its password at the next sign-in, its "
            "sign-in and lookups are refused (reason `contained`) until lift_containment; with --deactivate-targets the "
            "connected systems that keep their own accounts deactivate it too. Each step's result is "
            "printed; a failed step does not stop the others (exit status 1). A second call changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--incident", help="The incident's number (SC-2026-00001) or id, to attach it to.")
        parser.add_argument("--deactivate-targets", action="store_true",
                            help="Also deactivate the accounts in the connected systems that keep their own accounts "
                                 "(SCIM PATCH active=false, a task on a manual target); lifting reactivates them.")

    def handle(self, *args, username, reason, incident=None, deactivate_targets=False, **options):
        account = User.objects.filter(username=normalise_username(username)).first()
        if account is None:
            raise CommandError(f"No account {username!r}.")
        try:
            with audit_context():
                result = account_contain(actor=COMMAND_LINE, account=account, reason=reason,
                                         incident=incident_named(incident), deactivate_targets=deactivate_targets)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        if result.already:
            self.stdout.write(f"{account.username} is already contained; nothing changed.")
            return
        self.stdout.write(f"{account.username} contained:")
        steps_write(self.stdout, result.steps)
        if exit_code(result):
            sys.exit(1)
