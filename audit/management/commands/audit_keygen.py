"""Print a new Ed25519 signing key for AUDIT_SIGNING_KEY and its public key (once; nothing is stored)."""
from django.core.management.base import BaseCommand

from audit.keys import new_signing_key_text


class Command(BaseCommand):
    help = ("Print a fresh AUDIT_SIGNING_KEY (keep it secret, in the server's environment) and its public "
            "key for the inspectors. After a rotation, add the old public key to AUDIT_SIGNING_PREVIOUS_PUBLIC_KEYS.")

    def handle(self, *args, **options):
        seed, public_pem = new_signing_key_text()
        self.stdout.write(f"AUDIT_SIGNING_KEY={seed}")
        self.stdout.write(public_pem)
