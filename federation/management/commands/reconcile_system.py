from django.core.management.base import BaseCommand, CommandError

from federation.models import ConnectedSystem
from federation.reconcile import system_reconcile
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = ("Reconcile a SCIM target: read every user it holds, report orphans (active there, disabled or "
            "unknown here), drift (name, role, unit) and missing accounts; the report is kept (its page "
            "exports it as CSV and turns it into corrective pushes).")

    def add_arguments(self, parser):
        parser.add_argument("name", help="the connected system's name")

    def handle(self, *args, **options):
        system = ConnectedSystem.objects.select_related("unit").filter(name=options["name"]).first()
        if system is None:
            raise CommandError(f"No connected system named {options['name']!r}.")
        try:
            with audit_context():
                report = system_reconcile(actor=COMMAND_LINE, system=system)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        if report.error:
            raise CommandError(f"The target could not be read: {report.error} (report {report.pk} kept)")
        self.stdout.write(f"report {report.pk}: {report.users_read} users read; {report.orphans} orphans, "
                          f"{report.drifts} drifts, {report.missing} missing")
