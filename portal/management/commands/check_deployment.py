"""`manage.py check_deployment`: what is misconfigured on this server, asked of the services
themselves (portal.deployment). Exit status 1 when anything is a problem."""
from django.core.management.base import BaseCommand, CommandError

from portal.deployment import NOTE, OK, PROBLEM, deployment_findings


class Command(BaseCommand):
    help = "Check this server's deployment: settings, PostgreSQL roles and grants, the three Redis roles."

    def handle(self, *args, **options):
        findings = deployment_findings()
        marks = {OK: "ok     ", NOTE: "note   ", PROBLEM: "PROBLEM"}
        for finding in findings:
            self.stdout.write(f"{marks[finding.level]} {finding.what}: {finding.text}")
        problems = [finding for finding in findings if finding.level == PROBLEM]
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found.")
        self.stdout.write(self.style.SUCCESS("No problem found."))
