from django.core.management.base import BaseCommand

from federation.services import signing_key_rotate_now
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context


class Command(BaseCommand):
    help = ("Rotate the key that signs ID tokens and logout tokens. The retired key stays published in "
            "the JWKS until the tokens it signed have expired; prints the new key id.")

    def handle(self, *args, **options):
        with audit_context():
            kid = signing_key_rotate_now(actor=COMMAND_LINE)
        self.stdout.write(f"kid: {kid}")
