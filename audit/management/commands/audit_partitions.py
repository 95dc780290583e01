"""Create this month's and the next months' partitions of the partitioned tables now (what the daily
job does)."""
from django.core.management.base import BaseCommand, CommandError

from audit.partitions import partitions_ahead


class Command(BaseCommand):
    help = "Create the monthly partitions of the partitioned tables through the months ahead."

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=None, help="months ahead (default AUDIT_PARTITIONS_AHEAD)")

    def handle(self, *args, **options):
        if options["months"] is not None and not 0 <= options["months"] <= 24:
            raise CommandError("--months must be between 0 and 24.")
        for table, created in partitions_ahead(months=options["months"]).items():
            self.stdout.write(f"{table}: {', '.join(created) if created else 'every partition already exists'}")
