from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit
from lookups.services import api_client_create
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = ("Register an external system that asks for lookup decisions for the officers of a unit's "
            "subtree, and print its bearer token once (it is stored only hashed).")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--unit", required=True, help="Agency code of the unit, e.g. 000.00.32.H19")

    def handle(self, *args, **options):
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"No unit with agency code {options['unit']!r}.")
        try:
            with audit_context():
                _client, token = api_client_create(actor=COMMAND_LINE, name=options["name"], unit=unit)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(token)
