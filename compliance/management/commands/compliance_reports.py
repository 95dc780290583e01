from datetime import date

from django.core.management.base import BaseCommand, CommandError

from compliance.services import monthly_reports_generate
from portal.actors import SystemActor


class Command(BaseCommand):
    help = ("Make the monthly compliance reports now (what the job on the 1st runs): last month's by default, "
            "or --month YYYY-MM. A report already made is kept as it is.")

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, a month that has ended")

    def handle(self, *args, month=None, **options):
        chosen = None
        if month:
            try:
                year, number = (int(part) for part in month.split("-"))
                chosen = date(year, number, 1)
            except ValueError as error:
                raise CommandError("Give the month as YYYY-MM, for example 2026-03.") from error
        made = monthly_reports_generate(actor=SystemActor("command_line"), month=chosen)
        self.stdout.write(f"Reports made: {made}")
