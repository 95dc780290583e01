"""Contain a unit and every unit below it from the server's shell (the same service as the button)."""
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit
from incidents.services.containment import unit_contain
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError

from ._containment import exit_code, incident_named, steps_write


class Command(BaseCommand):
    help = ("Contain a unit (agency code) and every unit below it: every session of their accounts ends, each "
            "must change its password at the next sign-in, sign-in and lookups are refused (reason `contained`) "
            "until lift_containment — also for accounts created there meanwhile; with --deactivate-targets the "
            "connected systems that keep their own accounts deactivate them too. Each step's result is printed; "
            "a failed step does not stop the others (exit status 1). A second call changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--incident", help="The incident's number (SC-2026-00001) or id, to attach it to.")
        parser.add_argument("--suspend-api-clients", action="store_true",
                            help="Also suspend the lookup API clients of the unit's subtree.")
        parser.add_argument("--deactivate-targets", action="store_true",
                            help="Also deactivate the accounts in the connected systems that keep their own accounts "
                                 "(SCIM PATCH active=false, a task on a manual target); lifting reactivates them.")

    def handle(self, *args, code, reason, incident=None, suspend_api_clients=False, deactivate_targets=False,
               **options):
        unit = Unit.objects.filter(code=code.strip().upper()).first()
        if unit is None:
            raise CommandError(f"No unit with the agency code {code!r}.")
        try:
            with audit_context():
                result = unit_contain(actor=COMMAND_LINE, unit=unit, reason=reason, incident=incident_named(incident),
                                      suspend_api_clients=suspend_api_clients,
                                      deactivate_targets=deactivate_targets)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        if result.already:
            self.stdout.write(f"{unit.code} is already contained; nothing changed.")
            return
        self.stdout.write(f"{unit.code} and the units below it contained ({result.containment.accounts_count} accounts):")
        steps_write(self.stdout, result.steps)
        if exit_code(result):
            sys.exit(1)
