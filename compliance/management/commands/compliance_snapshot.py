from django.core.management.base import BaseCommand

from compliance.services import snapshot_take
from portal.actors import SystemActor


class Command(BaseCommand):
    help = "Take today's compliance snapshot of every unit now (what the daily job runs); a second run adds nothing."

    def handle(self, *args, **options):
        written = snapshot_take(actor=SystemActor("command_line"))
        self.stdout.write(f"Snapshots written: {written}")
