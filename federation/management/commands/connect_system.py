from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit
from federation.services import system_register
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = ("Register a connected system whose officers are those of a unit's subtree and print its "
            "client_id and client_secret (the secret only this once; it is stored hashed).")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--unit", required=True, help="Agency code of the owner unit, e.g. 000.00.32.H19")
        parser.add_argument("--kind", default="oidc", choices=["oidc"],
                            help="oidc: signs officers in through the portal (OpenID Connect)")
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris",
                            help="an exact redirect URI (repeat for several)")
        parser.add_argument("--backchannel-logout-uri", default="", help="where logout tokens are POSTed")
        parser.add_argument("--contact", default="", help="who answers for the system (name, phone, e-mail)")

    def handle(self, *args, **options):
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"No unit with agency code {options['unit']!r}.")
        try:
            with audit_context():
                system, secret = system_register(
                    actor=COMMAND_LINE, name=options["name"], unit=unit, redirect_uris=options["redirect_uris"],
                    backchannel_logout_uri=options["backchannel_logout_uri"], contact=options["contact"])
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(f"client_id: {system.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
