"""The maintenance command of retention (README, "Tamper-evident logs"): removes the monthly partitions
older than AUDIT_RETENTION_MONTHS (at least 3) — only after a clean verification, with a signed event
that the events' own chain seals. Run it with the role that owns the tables."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.retention import retention_apply, retention_plan
from audit.verification import chain_verify, report_lines
from portal.actors import COMMAND_LINE
from portal.audit_context import audit_context
from portal.errors import DomainError


class Command(BaseCommand):
    help = "Remove whole months of records older than the retention period, after verifying the seals."

    def add_arguments(self, parser):
        parser.add_argument("--table", default="lookups_lookuprecord", choices=sorted(settings.AUDIT_PARTITIONED_TABLES))
        parser.add_argument("--months", type=int, default=None,
                            help="months kept before the current one (default AUDIT_RETENTION_MONTHS, at least 3)")
        parser.add_argument("--dry-run", action="store_true", help="only say what would be removed")

    def handle(self, *args, **options):
        table = options["table"]
        months = settings.AUDIT_RETENTION_MONTHS if options["months"] is None else options["months"]
        try:
            if options["dry_run"]:
                plan = retention_plan(table, months=months)
                self.stdout.write(f"Would remove {', '.join(plan.partitions) or 'nothing'} "
                                  f"({plan.removed_count} records).")
                return
            with audit_context():
                plan = retention_apply(actor=COMMAND_LINE, table=table, months=months, verify=self._verify)
        except DomainError as error:
            raise CommandError(error.message) from None
        if not plan.partitions:
            self.stdout.write(f"{table}: nothing older than {plan.cutoff_month} to remove.")
            return
        self.stdout.write(f"{table}: removed {', '.join(plan.partitions)} ({plan.removed_count} records, ids "
                          f"{plan.removed_first_id}–{plan.removed_last_id}); the chain's records now start "
                          f"after seal {plan.through_position}.")

    def _verify(self, table) -> bool:
        report = chain_verify(tables=[table], actor_username=COMMAND_LINE.username)
        if not report.ok:
            for line in report_lines(report):
                self.stderr.write(line)
        return report.ok
