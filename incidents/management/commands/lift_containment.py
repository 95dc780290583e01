"""Lift the containment of an account (username) or a unit (agency code): the same service as the button.
The forced password change stays: lookups come back once the officer has chosen a new password."""
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit, User, normalise_username
from incidents.services.containment import containment_lift
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError

from ._containment import steps_write


class Command(BaseCommand):
    help = ("Lift the containment of an account (USERNAME) or of a unit and the units below it (agency CODE). "
            "The forced password change stays.")

    def add_arguments(self, parser):
        parser.add_argument("target", metavar="USERNAME|CODE")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--resume-api-clients", action="store_true",
                            help="Also resume the lookup API clients the unit's containment suspended.")

    def handle(self, *args, target, reason, resume_api_clients=False, **options):
        unit = Unit.objects.filter(code=target.strip().upper()).first()
        account = None if unit is not None else User.objects.filter(username=normalise_username(target)).first()
        if unit is None and account is None:
            raise CommandError(f"No account or unit {target!r}.")
        try:
            with audit_context():
                result = containment_lift(actor=COMMAND_LINE, reason=reason, account=account, unit=unit,
                                          resume_api_clients=resume_api_clients)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        self.stdout.write(f"Containment of {target} lifted:")
        steps_write(self.stdout, result.steps)
