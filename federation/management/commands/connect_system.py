from django.core.management.base import BaseCommand, CommandError

from accounts.models import Unit
from federation.choices import SystemKind
from federation.services import system_provision_all, system_register, system_register_target
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


def _role_map(values: list[str]) -> dict:
    mapping = {}
    for value in values:
        role, sep, name = value.partition("=")
        if not sep:
            raise CommandError(f"--role-map takes ROLE=NAME, e.g. officer=staff (got {value!r}).")
        mapping[role.strip()] = name.strip()
    return mapping


class Command(BaseCommand):
    help = ("Register a connected system whose officers are those of a unit's subtree. oidc: prints its "
            "client_id and client_secret (the secret only this once; it is stored hashed). scim: keeps the "
            "target's bearer token encrypted and pushes every account of the subtree. manual: each account "
            "change becomes a task for the IT Center.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--unit", required=True, help="Agency code of the owner unit, e.g. 000.00.32.H19")
        parser.add_argument("--kind", default="oidc", choices=["oidc", "scim", "manual"],
                            help="oidc: signs officers in through the portal (OpenID Connect); scim: receives "
                                 "account changes (SCIM 2.0); manual: changed by hand (a task per change)")
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris",
                            help="an exact redirect URI (repeat for several)")
        parser.add_argument("--backchannel-logout-uri", default="", help="where logout tokens are POSTed")
        parser.add_argument("--scim-url", default="", help="the SCIM 2.0 base URL (…/scim/v2/)")
        parser.add_argument("--scim-token", default="", help="the bearer token the target gave (kept encrypted)")
        parser.add_argument("--role-map", action="append", default=[], dest="role_map",
                            help="ROLE=NAME: how a portal role is named on the target (repeat), e.g. officer=staff")
        parser.add_argument("--contact", default="", help="who answers for the system (name, phone, e-mail)")

    def handle(self, *args, **options):
        unit = Unit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"No unit with agency code {options['unit']!r}.")
        try:
            with audit_context():
                if options["kind"] == "oidc":
                    system, secret = system_register(
                        actor=COMMAND_LINE, name=options["name"], unit=unit, redirect_uris=options["redirect_uris"],
                        backchannel_logout_uri=options["backchannel_logout_uri"], contact=options["contact"])
                else:
                    system = system_register_target(
                        actor=COMMAND_LINE, name=options["name"], unit=unit, kind=options["kind"],
                        scim_url=options["scim_url"], scim_token=options["scim_token"],
                        role_mapping=_role_map(options["role_map"]), contact=options["contact"])
                    queued = system_provision_all(actor=COMMAND_LINE, system=system)
        except DomainError as error:
            raise CommandError("; ".join(str(message) for message in error.messages)) from error
        if options["kind"] == "oidc":
            self.stdout.write(f"client_id: {system.application.client_id}")
            self.stdout.write(f"client_secret: {secret}")
        else:
            noun = "pushes" if system.kind == SystemKind.SCIM else "tasks"
            self.stdout.write(f"registered: {system.name} ({system.kind}); {queued} {noun} queued")
