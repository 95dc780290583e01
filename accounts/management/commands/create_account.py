from django.core.management.base import BaseCommand, CommandError

from accounts.choices import Role
from accounts.models import Unit
from accounts.services.lifecycle import account_create
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = ("Create an account with a one-time password and print only that password; the account "
            "must change it at first login.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--unit", required=True, help="Agency code of the unit, e.g. 000.00.31.H19")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--can-lookup", action="store_true", help="May look up citizens.")

    def handle(self, *args, **options):
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"No unit with agency code {options['unit']!r}.")
        try:
            with audit_context():
                _, password, _ = account_create(
                    actor=COMMAND_LINE, username=options["username"],
                    full_name=options["full_name"] or options["username"], email=options["email"],
                    phone=options["phone"], unit=unit, role=options["role"], can_lookup=options["can_lookup"],
                )
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(password)
