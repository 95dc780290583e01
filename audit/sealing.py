"""Sealing: chain blocks of consecutive records of each append-only table (settings.AUDIT_SEALED_TABLES)
with an HMAC and an Ed25519 signature (audit/canonical.py says over what).

Records are written plainly by the hot path; this runs beside it (the `audit.seal` job every minute,
`manage.py audit_seal`) and never makes an insert wait: it takes no table lock, only an advisory lock of
its own per table, so two sealers queue for the chain and never fork it (and the chain position is
unique in the database besides).

Sequence ids are handed out before commit, so a row with a lower id can commit after a higher one
(commanded/eventstore#3, marten#3865). A block therefore ends below the oldest transaction still
inserting: a run notes the sequence's last value and, after it, the transactions that hold the
table's insert lock (an INSERT takes that lock while it is parsed, before it draws its id, so every
transaction that drew an id up to that value is among them or has ended). Once those have all ended,
every id up to the noted value is settled — committed, or rolled back for good — and may be sealed; ids
that never committed are sealed as the block's gaps, so verification can tell them from deletions. That
is `pg_snapshot_xmin(pg_current_snapshot())` made exact for one table: the database-wide xmin would let
any long report stall sealing, and misses the instant between drawing an id and getting an xid.

The chain's head is also kept outside the database (audit/heads.py): before sealing, the sealer
compares the table's chain with the newest head kept there and refuses to go on when the chain ends
before it or differs from it (someone cut the chain: re-sealing would grow it again over changed
records); after sealing, each new head is appended there.
"""
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.locks import seal_chain_key

from .canonical import GENESIS, TAG_BYTES, RecordLayout, block_hasher, leaf_hash, seal_chain, seal_message, signed_bytes
from .heads import head_latest, heads_append, heads_path, seal_head
from .keys import current_hmac_key, signing_key, signing_key_id
from .models import Seal, SealWatermark

FETCH_ROWS = 5000


def sealed_tables() -> dict[str, str]:
    """The sealed tables and their time columns (settings.AUDIT_SEALED_TABLES)."""
    return dict(settings.AUDIT_SEALED_TABLES)


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def chain_lock_key(table: str) -> int:
    """The advisory lock of a table's chain (portal.locks: a stable 32-bit number from its name)."""
    return seal_chain_key(table)


# ----- which ids are settled -----------------------------------------------------------------------

def _sequence_last_value(cursor, table: str) -> int:
    cursor.execute("SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')::regclass)", [table])
    value = cursor.fetchone()[0]
    return value or 0


def _inserting_transactions(cursor, table: str) -> list[str]:
    """The other sessions' transactions that hold the insert lock of the table or of one of its
    partitions (an INSERT straight into a partition locks only the partition)."""
    cursor.execute(
        "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation'"
        " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
        " AND (relation = %s::regclass OR relation IN (SELECT relid FROM pg_partition_tree(%s::regclass)))",
        [table, table])
    return sorted(row[0] for row in cursor.fetchall())


def _still_open(cursor, transactions: list[str]) -> bool:
    if not transactions:
        return False
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s))",
                   [list(transactions)])
    return cursor.fetchone()[0]


def settled_bound(cursor, table: str, *, sealed_through: int) -> int:
    """The highest id up to which every id of the table is settled, as far as known now; notes what it
    sees for a later run when inserts are in flight. Called under the chain's lock."""
    last_value = _sequence_last_value(cursor, table)  # first the value, then who may hold ids up to it
    inserting = _inserting_transactions(cursor, table)
    bound = sealed_through
    pending = list(SealWatermark.objects.filter(table_name=table, last_value__gt=sealed_through)
                   .order_by("last_value"))
    for watermark in pending:
        if not _still_open(cursor, watermark.open_transactions):
            bound = max(bound, watermark.last_value)
    if not inserting:
        bound = max(bound, last_value)
    elif last_value > max([bound, *(w.last_value for w in pending)]):
        SealWatermark.objects.create(table_name=table, last_value=last_value, open_transactions=inserting,
                                     observed_at=timezone.now())
    SealWatermark.objects.filter(table_name=table, last_value__lte=bound).delete()
    return bound


# ----- one block -----------------------------------------------------------------------------------

@dataclass
class Block:
    first_id: int
    last_id: int
    row_count: int
    gaps: list
    columns: list
    first_record_at: datetime | None
    last_record_at: datetime | None
    digest: str
    row_tags: bytes


def _gap(gaps: list, start: int, end: int) -> None:
    if start <= end:
        gaps.append([start, end])


def block_read(table: str, time_column: str, *, first_id: int, bound: int, max_rows: int) -> Block:
    """Read and hash the records first_id…bound (at most max_rows of them; the block then ends at the
    last one read). A server-side cursor: memory stays flat whatever the block's size."""
    hasher, tags, gaps = block_hasher(), bytearray(), []
    count, expected, layout, earliest, latest = 0, first_id, None, None, None
    last_id = bound
    with connection.connection.cursor(name=f"seal_{table}_{first_id}") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(f"SELECT * FROM {_quoted(table)} WHERE id >= %s AND id <= %s ORDER BY id LIMIT %s",
                       [first_id, bound, max_rows])
        for row in cursor:
            if layout is None:
                layout = RecordLayout(cursor.description)
                time_index = [column.name for column in cursor.description].index(time_column)
            record_id = row[layout.id_index]
            _gap(gaps, expected, record_id - 1)
            expected = record_id + 1
            leaf = leaf_hash(layout.record(row))
            hasher.update(leaf)
            tags += leaf[:TAG_BYTES]
            moment = row[time_index]
            if earliest is None or moment < earliest:
                earliest = moment
            if latest is None or moment > latest:
                latest = moment
            count += 1
        if count == max_rows:
            last_id = expected - 1
        else:
            _gap(gaps, expected, bound)
        columns = layout.columns if layout is not None else _table_columns(table)
    return Block(first_id=first_id, last_id=last_id, row_count=count, gaps=gaps, columns=columns,
                 first_record_at=earliest, last_record_at=latest,
                 digest=hasher.hexdigest(), row_tags=bytes(tags))


def _table_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        return sorted(column.name for column in connection.introspection.get_table_description(cursor, table))


def seal_create(*, table: str, position: int, previous_chain: str, block: Block) -> Seal:
    """Chain and sign a block and store its seal."""
    key_id, key = current_hmac_key()
    signer = signing_key()
    sealed_at = timezone.now()
    message = seal_message(table=table, position=position, first_id=block.first_id, last_id=block.last_id,
                           row_count=block.row_count, gaps=block.gaps, columns=block.columns,
                           first_record_at=block.first_record_at, last_record_at=block.last_record_at,
                           digest=block.digest, sealed_at=sealed_at, previous_chain=previous_chain, key_id=key_id)
    chain = seal_chain(key, message)
    return Seal.objects.create(
        table_name=table, position=position, first_id=block.first_id, last_id=block.last_id,
        row_count=block.row_count, gaps=block.gaps, columns=block.columns, first_record_at=block.first_record_at,
        last_record_at=block.last_record_at, digest=block.digest, row_tags=block.row_tags, sealed_at=sealed_at,
        previous_chain=previous_chain, key_id=key_id, chain=chain,
        signing_key_id=signing_key_id(signer.public_key()),
        signature=signer.sign(signed_bytes(message, chain)).hex(),
    )


# ----- the service ----------------------------------------------------------------------------------

def latest_seal(table: str) -> Seal | None:
    return Seal.objects.filter(table_name=table).order_by("-position").first()


class ChainWentBackwards(DomainError):
    """The database's chain ends before, or differs from, the head kept outside it: sealing stops."""

    status = 409
    default_code = "seal_chain_went_backwards"


def head_check(table: str, last: Seal | None) -> Seal | None:
    """Compare the table's chain with the newest head kept outside the database (audit/heads.py), under
    the chain's lock. Refuses (ChainWentBackwards) when the chain went backwards or was rewritten; keeps
    the heads of seals committed but not kept yet (a run that died between its commit and its write, or
    a heads file newly set up: those are taken as they stand). Returns the kept head's seal."""
    if heads_path() is None:
        return None
    kept = head_latest(table)
    if kept is not None:
        position, chain = kept.get("position"), kept.get("chain")
        if last is None or last.position < position:
            raise ChainWentBackwards(_(
                "The seal chain of %(table)s went backwards: the head kept outside the database is seal "
                "no. %(kept)s, the database's chain ends at %(found)s. Sealing stopped: run audit_verify "
                "--heads with the kept heads and investigate before anything is re-sealed.") % {
                    "table": table, "kept": position, "found": last.position if last else 0})
        at = last if last.position == position else (
            Seal.objects.filter(table_name=table, position=position).first())
        if at is None or at.chain != chain or at.last_id != kept.get("last_id", at.last_id):
            raise ChainWentBackwards(_(
                "The seal chain of %(table)s was rewritten: seal no. %(kept)s in the database differs from "
                "the head kept outside it. Sealing stopped: run audit_verify --heads with the kept heads "
                "and investigate before anything is re-sealed.") % {"table": table, "kept": position})
    missing = Seal.objects.filter(table_name=table, position__gt=kept["position"] if kept else 0)
    heads_append(seal_head(seal) for seal in missing.order_by("position").iterator(chunk_size=1000))
    return last


def table_seal(table: str, *, max_rows: int | None = None) -> list[Seal]:
    """Seal every settled record of one table not sealed yet; the new seals, oldest first. Never seals
    a range twice: refuses when the chain went back behind the head kept outside the database."""
    time_column = sealed_tables()[table]
    max_rows = max_rows or settings.AUDIT_SEAL_BLOCK_MAX_ROWS
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain_lock_key(table)])
        last = latest_seal(table)
        head_check(table, last)
        sealed_through = last.last_id if last else 0
        bound = settled_bound(cursor, table, sealed_through=sealed_through)
        while bound > sealed_through:
            block = block_read(table, time_column, first_id=sealed_through + 1, bound=bound, max_rows=max_rows)
            last = seal_create(table=table, position=last.position + 1 if last else 1,
                               previous_chain=last.chain if last else GENESIS, block=block)
            created.append(last)
            sealed_through = last.last_id
    # Kept once committed: a head written for a seal that then rolled back would look like a cut chain.
    heads_append(seal_head(seal) for seal in created)
    return created


def seals_run(*, tables=None, settle_seconds: float = 0.0) -> dict[str, list[Seal]]:
    """Seal every sealed table (or those given). With settle_seconds, wait up to that long for inserts in
    flight to end, and seal them too (the command does; the job seals them at its next run). A table
    whose chain went backwards is left unsealed and the others sealed; the refusal is raised at the end."""
    created, refused = {}, None
    for table in tables or sealed_tables():
        try:
            created[table] = table_seal(table)
        except ChainWentBackwards as error:
            created[table], refused = [], refused or error
            continue
        deadline = time.monotonic() + settle_seconds
        while SealWatermark.objects.filter(table_name=table).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
            created[table] += table_seal(table)
    if refused is not None:
        raise refused
    return created
