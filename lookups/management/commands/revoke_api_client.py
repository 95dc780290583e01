from django.core.management.base import BaseCommand, CommandError

from lookups.services import api_client_revoke
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Revoke an API client's token at once. Revoking a revoked client is a no-op that exits 0."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, **options):
        try:
            with audit_context():
                revoked = api_client_revoke(actor=COMMAND_LINE, name=options["name"])
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(f"Revoked {options['name']}." if revoked else f"{options['name']} was already revoked.")
