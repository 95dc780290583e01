import io

import qrcode
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.demo import (
    DEMO_ACCOUNTS,
    PROVINCE,
    demo_accounts_seed,
    demo_otpauth_uri,
    demo_password_problems,
    demo_second_factor_seed,
    demo_units_seed,
    totp_key_as_base32,
    totp_key_from_base32,
)
from compliance.population import demo_population_seed
from federation.demo import demo_system_seed
from incidents.demo import demo_incident_seed
from letter.demo import demo_directive_seed
from policy.services import one_time_password_generate
from policy.validators import CharacterClassValidator, MinimumLengthValidator
from portal.actors import SEED_DEMO

FIRST_ACCOUNT = "demo.admin"  # sees everything: accounts, units, events, policy
GENERATED_PASSWORD_TRIES = 5


class Command(BaseCommand):
    help = ("Idempotent demo data: the Đồng Nai unit tree and the accounts demo.admin, demo.inspector, "
            "demo.leader and demo.officer, ready to use. Refuses under production settings (DEBUG=0) "
            "unless given --allow-production.")

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Give every demo account this password (else one is generated "
                                               "for new accounts and printed once).")
        parser.add_argument("--sample-population", action="store_true",
                            help="Also create the dashboards' sample population (a few hundred officers without a "
                                 "usable password, a quarter of lookups and snapshots); trial machines only.")
        parser.add_argument("--totp-secret", metavar="BASE32",
                            help="The TOTP key (base32) of the demo accounts that sign in with a second factor "
                                 "(demo.admin, demo.inspector), so that scripts can compute codes; else one is "
                                 "generated for accounts without one and printed once with its otpauth:// URI.")
        parser.add_argument("--allow-production", action="store_true",
                            help="Run under production settings (DEBUG=0): the password must then pass the "
                                 "whole policy, and every demo account must change it at first sign-in.")

    def handle(self, *args, password=None, allow_production=False, totp_secret=None, sample_population=False,
               **options):
        if sample_population and not settings.DEBUG:
            raise CommandError("The sample population is for trial machines (DEBUG=1) only.")
        # Known usernames with a password typed on a command line: on a production system that is an
        # open door unless the policy judges the password and the officers replace it at once.
        production = not settings.DEBUG
        if production and not allow_production:
            raise CommandError(
                "Refusing to seed demo accounts under production settings (DEBUG=0): they have known "
                "usernames. Give --allow-production to seed them anyway; the password must then pass the "
                "whole password policy and every demo account must change it at its first sign-in.")
        totp_key = None
        if totp_secret is not None:
            try:
                totp_key = totp_key_from_base32(totp_secret)
            except ValueError as error:
                raise CommandError(f"--totp-secret: {error}.") from error
        reset_existing = password is not None
        generated = password is None
        with transaction.atomic():
            units_created = demo_units_seed()
            if generated:
                password = self._generated_password(check=production, reset_existing=reset_existing)
            elif production:
                problems = demo_password_problems(password=password, reset_existing=reset_existing)
                if problems:
                    # Raising here rolls the units back too: a refusal changes nothing.
                    raise CommandError("The password does not pass the password policy:\n  " + "\n  ".join(problems))
            else:
                self._warn_if_weak(password)
            results = demo_accounts_seed(password=password, reset_existing=reset_existing, must_change=production)
            enrolled_key, enrolled = demo_second_factor_seed(key=totp_key)
            # Letter point 1: the demo's first directive is the letter itself (letter.demo).
            demo_directive_seed()
            # A sample incident (reported by demo.officer, triaged by demo.admin; not contained).
            demo_incident_seed()
            # The trial's sample "one-stop system" (run_sample_rp): single sign-on and back-channel
            # logout shown end to end; under DEBUG=1 only (its addresses are http://127.0.0.1).
            sample_system = demo_system_seed(actor=SEED_DEMO, unit_code=PROVINCE[0])
        # The sample population (officers without a usable password, lookups, snapshots) is for a
        # trial machine only: never on a production system.
        population = demo_population_seed() if sample_population else None
        self.stdout.write(f"Units created: {units_created}")
        if sample_system is not None:
            self.stdout.write(f"Connected system: {sample_system.name} (python manage.py run_sample_rp)")
        if population is not None:
            self.stdout.write(f"Sample officers created: {population['officers']} (no usable password)")
        for username, was_created in results:
            self.stdout.write(f"  {username}: {'created' if was_created else 'already present'}")
        created = [username for username, was_created in results if was_created]
        if enrolled_key is not None and totp_key is None:
            self._print_totp_uri(enrolled)
        self._print_frame(password=password, shown=reset_existing or bool(created), given=reset_existing,
                          must_change=production,
                          totp_lines=self._totp_lines(enrolled_key, enrolled, given=totp_key is not None))

    def _print_totp_uri(self, enrolled):
        """The generated key's otpauth:// URI, and its QR code drawn in the terminal, for a phone to scan
        (printed once, like the password; above the frame, which stays the last thing shown)."""
        uri = demo_otpauth_uri(FIRST_ACCOUNT) or demo_otpauth_uri(enrolled[0])
        code = qrcode.QRCode(border=1)
        code.add_data(uri)
        drawing = io.StringIO()
        code.print_ascii(out=drawing, invert=True)
        self.stdout.write("")
        self.stdout.write(f"Second factor of {', '.join(enrolled)}: scan this with an authenticator app")
        self.stdout.write(drawing.getvalue())
        self.stdout.write(f"URI  {uri}")

    @staticmethod
    def _totp_lines(key, enrolled, *, given: bool) -> list[str]:
        if given:
            return ["TOTP key   the one given with --totp-secret (demo.admin, demo.inspector)"]
        if key is None:
            return ["TOTP key   unchanged since the first run (seed_demo --totp-secret BASE32 sets one)"]
        return [f"TOTP key   {totp_key_as_base32(key)}",
                f"           for {', '.join(enrolled)} (QR code and otpauth:// URI above); shown only this once"]

    def _generated_password(self, *, check: bool, reset_existing: bool) -> str:
        for _ in range(GENERATED_PASSWORD_TRIES):
            password = one_time_password_generate()
            if not check or not demo_password_problems(password=password, reset_existing=reset_existing):
                return password
        raise CommandError("Could not generate a password that passes the password policy; give one with --password.")

    def _print_frame(self, *, password: str, shown: bool, given: bool, must_change: bool, totp_lines=()):
        """The last thing `make run` prints before the server starts: what to open and how to sign in,
        framed, so it is not lost among the migrations."""
        others = ", ".join(row[0] for row in DEMO_ACCOUNTS if row[0] != FIRST_ACCOUNT)
        if given:
            password_lines = ["Password   the one given with --password, for every demo account"]
        elif shown:
            password_lines = [f"Password   {password}", "           the same for every demo account; shown only this once"]
        else:
            password_lines = ["Password   unchanged since the first run (seed_demo --password PW sets one)"]
        lines = [
            "Account Security Portal: the demo is ready",
            "",
            f"Open       {settings.PORTAL_URL}",  # `make run PORT=…` sets it to the address it serves
            f"Sign in    {FIRST_ACCOUNT}   (IT Center administrator: sees everything)",
            *password_lines,
            f"Also       {others}",
            *totp_lines,
        ]
        if must_change:
            lines.append("Every demo account must change this password at its first sign-in.")
        width = max(len(line) for line in lines) + 4
        self.stdout.write("")
        self.stdout.write("+" + "=" * width + "+")
        for line in lines:
            self.stdout.write("|  " + line.ljust(width - 2) + "|")
        self.stdout.write("+" + "=" * width + "+")
        self.stdout.write("")

    def _warn_if_weak(self, password):
        # A trial machine (DEBUG=1): the operator chose it for a demo; say when it would not pass the
        # policy, but honour it.
        for validator in (MinimumLengthValidator(), CharacterClassValidator()):
            try:
                validator.validate(password)
            except ValidationError as error:
                self.stderr.write(self.style.WARNING(f"Warning: {' '.join(error.messages)}"))
