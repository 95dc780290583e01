"""What a seal covers, byte for byte: the canonical form of a record and of a seal. Pure functions,
shared by sealing and verification, and written down so that an inspector can recompute a seal off the
portal (README, "Tamper-evident logs").

A record is every column of its row as one JSON object: keys sorted by code point at every level, no
spaces, UTF-8, times in UTC as ISO 8601 with microseconds (`2026-12-01T07:30:00.123456+00:00`), JSON
columns as canonical JSON themselves, numerics and addresses as strings, bytes as hex. Its leaf hash is SHA-256(0x00 ‖ record);
a block's digest is SHA-256(0x01 ‖ leaf₁ ‖ … ‖ leafₙ) over its records in id order — the prefixes keep
a leaf from passing for a block (RFC 6962's domain separation). A seal keeps the first 4 bytes of each
leaf as well: they only point at the record that changed; the full digest is what proves.
"""
import hashlib
import hmac
import json
import operator
from datetime import UTC, date, datetime

SEAL_VERSION = "portal-seal-v1"
GENESIS = "0" * 64  # the "previous seal" of a table's first seal
TAG_BYTES = 4

# PostgreSQL type oids (pg_type) of the columns that need converting.
_TIMESTAMPTZ, _TIMESTAMP, _DATE, _JSON, _JSONB, _NUMERIC, _BYTEA = 1184, 1114, 1082, 114, 3802, 1700, 17

# Keys are put in sorted order as objects are built (the columns, and JSON columns through
# _sorted_object), so the encoder need not sort them again: the same bytes as sort_keys=True, faster.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _sorted_object(pairs):
    return dict(sorted(pairs))


def _moment(value):
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")


def _naive(value):
    return None if value is None else value.isoformat(timespec="microseconds")


def _day(value):
    return None if value is None else value.isoformat()


def _json(value):
    if isinstance(value, (str, bytes)):
        return json.loads(value, object_pairs_hook=_sorted_object)
    return json.loads(_encode(value), object_pairs_hook=_sorted_object) if value is not None else None


def _text(value):
    return None if value is None else str(value)


def _hex(value):
    return None if value is None else bytes(value).hex()


_INET = 869
_CONVERTERS = {_TIMESTAMPTZ: _moment, _TIMESTAMP: _naive, _DATE: _day, _JSON: _json, _JSONB: _json,
               _NUMERIC: _text, _BYTEA: _hex, _INET: _text}


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)  # inet, uuid, …


# Types psycopg2 already hands over as JSON-ready values (bool, integers, text, floats).
_AS_IS = {16, 20, 21, 23, 25, 1042, 1043, 700, 701, 19}


class RecordLayout:
    """How to read the rows of one query as records: which columns (the seal's list), where they are in
    the row and how each is converted. Built once per query from the cursor's description; the per-row
    work is one C-level pick of the columns, the few conversions, and the JSON encoder."""

    def __init__(self, description, columns: list[str] | None = None):
        found = {column.name: (index, column.type_code) for index, column in enumerate(description)}
        self.columns = sorted(columns if columns is not None else found)
        self.missing = [name for name in self.columns if name not in found]
        self.id_index = found["id"][0]
        present = [name for name in self.columns if name in found]
        self._names = present
        self._pick = operator.itemgetter(*[found[name][0] for name in present])
        self._single = len(present) == 1
        self._converted = []
        for position, name in enumerate(present):
            type_code = found[name][1]
            if type_code not in _AS_IS:
                self._converted.append((position, _CONVERTERS.get(type_code, _plain)))

    def record(self, row) -> bytes:
        values = [self._pick(row)] if self._single else list(self._pick(row))
        for position, convert in self._converted:
            values[position] = convert(values[position])
        return _encode(dict(zip(self._names, values))).encode()


def leaf_hash(record: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + record).digest()


def block_hasher():
    return hashlib.sha256(b"\x01")


def seal_message(*, table: str, position: int, first_id: int, last_id: int, row_count: int, gaps: list,
                 columns: list[str], first_record_at, last_record_at, digest: str, sealed_at: datetime,
                 previous_chain: str, key_id: str) -> bytes:
    """The bytes a seal's HMAC and signature cover: HMAC(key, previous seal ‖ range ‖ count ‖ digest ‖
    sealed_at …), fields joined by "|" in this order."""
    fields = [SEAL_VERSION, table, str(position), str(first_id), str(last_id), str(row_count),
              _encode([[int(start), int(end)] for start, end in gaps]),
              _encode(sorted(columns)), _moment(first_record_at) or "", _moment(last_record_at) or "", digest,
              _moment(sealed_at), previous_chain, key_id]
    return "|".join(fields).encode()


def seal_chain(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_bytes(message: bytes, chain: str) -> bytes:
    """What the Ed25519 signature covers: the seal's message and its chain value."""
    return message + b"|" + chain.encode()
