"""docs/architecture.md `audit_seal`: seal what is not sealed yet, now, in the foreground (what the job does every
minute). Inserts still in flight are waited for a few seconds and sealed too."""
from django.core.management.base import BaseCommand, CommandError

from audit.sealing import latest_seal, sealed_tables, seals_run
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Seal every settled record of the sealed tables that no seal covers yet."

    def add_arguments(self, parser):
        parser.add_argument("--table", action="append", choices=sorted(sealed_tables()),
                            help="only this table (repeatable)")
        parser.add_argument("--wait", type=float, default=5.0,
                            help="seconds to wait for inserts in flight to end (default 5)")

    def handle(self, *args, **options):
        if options["wait"] < 0:
            raise CommandError("--wait must not be negative.")
        try:
            with audit_context():
                created = seals_run(tables=options["table"], settle_seconds=options["wait"])
        except DomainError as error:
            raise CommandError(error.message) from None
        for table, seals in created.items():
            last = latest_seal(table)
            if seals:
                records = sum(seal.row_count for seal in seals)
                self.stdout.write(f"{table}: {len(seals)} seal(s), ids {seals[0].first_id}–{seals[-1].last_id}, "
                                  f"{records} record(s); chain at seal {last.position}")
            else:
                state = f"chain at seal {last.position} (ids up to {last.last_id})" if last else "no seal yet"
                self.stdout.write(f"{table}: nothing new to seal; {state}")
