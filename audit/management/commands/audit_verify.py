"""docs/architecture.md `audit_verify`: recompute every seal and its records. Reads like CloudTrail's
`validate-logs`; exits non-zero, naming the first broken record, when anything was altered.
`--heads FILE` checks the chain against heads kept outside the database (audit/heads.py)."""
import json
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.heads import KeptHeads
from audit.keys import public_key_from_text
from audit.sealing import sealed_tables
from audit.verification import chain_verify, report_lines
from portal.actors import COMMAND_LINE
from portal.errors import DomainError


def _day(text: str):
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise CommandError(f"Not a date in the form dd/mm/yyyy: {text!r}") from None


class Command(BaseCommand):
    help = ("Verify the seals of the append-only tables: chain, HMAC, Ed25519 signature and every record "
            "they cover. Exit status 1 and the first broken record named when anything is wrong.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="day_from", help="first day of records to check (dd/mm/yyyy)")
        parser.add_argument("--to", dest="day_to", help="last day of records to check (dd/mm/yyyy)")
        parser.add_argument("--table", action="append", choices=sorted(sealed_tables()),
                            help="only this table (repeatable)")
        parser.add_argument("--public-key", help="file with the public key to check the signatures with "
                            "(PEM or base64), instead of the portal's own")
        parser.add_argument("--heads", action="append", metavar="FILE",
                            help="JSON Lines of heads kept outside the database (the seals page's download, "
                            "or the portal's heads file); a kept head missing or changed fails (repeatable; "
                            "default: the portal's AUDIT_HEADS_FILE)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        day_from = _day(options["day_from"]) if options["day_from"] else None
        day_to = _day(options["day_to"]) if options["day_to"] else None
        if day_from and day_to and day_to < day_from:
            raise CommandError("--to is before --from.")
        public_key = None
        if options["public_key"]:
            try:
                public_key = public_key_from_text(Path(options["public_key"]).read_text())
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read the public key: {error}") from None
        heads = None
        if options["heads"]:
            try:
                heads = [KeptHeads.read(Path(name)) for name in options["heads"]]
            except OSError as error:
                raise CommandError(f"Cannot read the kept heads: {error}") from None
            for kept in heads:
                if not any(kept.seals.values()) and not kept.verifications:
                    raise CommandError(f"No seal head in {kept.source}: not a heads file or a seals download.")
        try:
            report = chain_verify(tables=options["table"], day_from=day_from, day_to=day_to, public_key=public_key,
                                  actor_username=COMMAND_LINE.username, heads=heads)
        except DomainError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        else:
            for line in report_lines(report):
                self.stdout.write(line)
        first = report.first_problem
        if first is not None:
            raise CommandError(f"Verification failed: {first.table} {first.message}.")
