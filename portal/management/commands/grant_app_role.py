"""`manage.py grant_app_role ROLE`, run as the owner role after every `migrate` (deploy/migrate.sh):
the application role may use every table, and only read and append to the append-only ones
(found by their MakeAppendOnly trigger, so a new one is covered by the next run)."""
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from portal.deployment import app_role_grant_statements


class Command(BaseCommand):
    help = "Grant the application role its privileges; no UPDATE/DELETE/TRUNCATE on append-only tables."

    def add_arguments(self, parser):
        parser.add_argument("role")
        parser.add_argument("--dry-run", action="store_true", help="print the statements, run nothing")

    def handle(self, *args, role, dry_run, **options):
        statements = app_role_grant_statements(role)
        for statement in statements:
            self.stdout.write(statement + ";")
        if dry_run:
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(f"Granted {role}."))
