"""One numbering scheme for every document the portal issues (portal/documents.py): a counter per
year and kind, shared by handover and turnover records ("BB") and monthly reports ("BC"), taken in one
statement (INSERT … ON CONFLICT DO UPDATE … RETURNING) so that two transactions never get one number."""
from django.db import connection, models

from portal.documents import document_number


class DocumentCounter(models.Model):
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "accounts"
        constraints = [models.UniqueConstraint(fields=["year", "kind"], name="document_counter_once")]


def document_number_take(kind: str, *, year: int) -> str:
    """The next number of the year for this kind of document, e.g. "0004/BB-TTCNTT". Rolled back with
    the transaction that took it (a gap-free count of issued documents)."""
    table = DocumentCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, kind, last) VALUES (%s, %s, 1) "  # noqa: S608 (the model's own table)
            f"ON CONFLICT (year, kind) DO UPDATE SET last = {table}.last + 1 RETURNING last", [year, kind])
        sequence = cursor.fetchone()[0]
    return document_number(sequence, kind)
