from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import demo_accounts_seed, demo_units_seed
from policy.services import one_time_password_generate
from policy.validators import CharacterClassValidator, MinimumLengthValidator


class Command(BaseCommand):
    help = ("Idempotent demo data: the Đồng Nai unit tree and the accounts demo.admin, demo.inspector, "
            "demo.leader and demo.officer, ready to use.")

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Give every demo account this password (else one is generated "
                                               "for new accounts and printed once).")

    def handle(self, *args, password=None, **options):
        reset_existing = password is not None
        if password is None:
            password = one_time_password_generate()
        else:
            self._warn_if_weak(password)
        with transaction.atomic():
            units_created = demo_units_seed()
            results = demo_accounts_seed(password=password, reset_existing=reset_existing)
        self.stdout.write(f"Units created: {units_created}")
        created = [username for username, was_created in results if was_created]
        for username, was_created in results:
            self.stdout.write(f"  {username}: {'created' if was_created else 'already present'}")
        if reset_existing:
            self.stdout.write("Every demo account has the password given with --password.")
        elif created:
            self.stdout.write(f"Password of the new demo accounts (shown once): {password}")
        else:
            self.stdout.write("Demo accounts keep their passwords; use --password to set a new one.")

    def _warn_if_weak(self, password):
        # The operator chose it for a demo; say when it would not pass the policy, but honour it.
        for validator in (MinimumLengthValidator(), CharacterClassValidator()):
            try:
                validator.validate(password)
            except ValidationError as error:
                self.stderr.write(self.style.WARNING(f"Warning: {' '.join(error.messages)}"))
