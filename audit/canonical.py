"""What a seal covers, byte for byte: the canonical form of a record and of a seal. Pure functions,
shared by sealing and verification, and written down so that an inspector can recompute a seal off the
portal (README, "Tamper-evident logs").

A record is every column of its row as one JSON object: keys sorted, no spaces, UTF-8, times in UTC
as ISO 8601 with microseconds (`2026-12-01T07:30:00.123456+00:00`), JSON columns as canonical JSON
themselves, numerics and addresses as strings, bytes as hex. Its leaf hash is SHA-256(0x00 ‖ record);
a block's digest is SHA-256(0x01 ‖ leaf₁ ‖ … ‖ leafₙ) over its records in id order — the prefixes keep
a leaf from passing for a block (RFC 6962's domain separation). A seal keeps the first 4 bytes of each
leaf as well: they only point at the record that changed; the full digest is what proves.
"""
import hashlib
import hmac
import json
from datetime import UTC, date, datetime

SEAL_VERSION = "portal-seal-v1"
GENESIS = "0" * 64  # the "previous seal" of a table's first seal
TAG_BYTES = 4

# PostgreSQL type oids (pg_type) of the columns that need converting.
_TIMESTAMPTZ, _TIMESTAMP, _DATE, _JSON, _JSONB, _NUMERIC, _BYTEA = 1184, 1114, 1082, 114, 3802, 1700, 17

_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


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
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _text(value):
    return None if value is None else str(value)


def _hex(value):
    return None if value is None else bytes(value).hex()


_CONVERTERS = {_TIMESTAMPTZ: _moment, _TIMESTAMP: _naive, _DATE: _day, _JSON: _json, _JSONB: _json,
               _NUMERIC: _text, _BYTEA: _hex}


def _plain(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)  # inet, uuid, …


class RecordLayout:
    """How to read the rows of one query as records: which columns (the seal's list), where they are in
    the row and how each is converted. Built once per query from the cursor's description."""

    def __init__(self, description, columns: list[str] | None = None):
        found = {column.name: (index, column.type_code) for index, column in enumerate(description)}
        self.columns = sorted(columns if columns is not None else found)
        self.missing = [name for name in self.columns if name not in found]
        self.id_index = found["id"][0]
        self._fields = [(name, found[name][0], _CONVERTERS.get(found[name][1], _plain))
                        for name in self.columns if name in found]

    def record(self, row) -> bytes:
        return _encode({name: convert(row[index]) for name, index, convert in self._fields}).encode()


def leaf_hash(record: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + record).digest()


def block_hasher():
    return hashlib.sha256(b"\x01")


def seal_message(*, table: str, position: int, first_id: int, last_id: int, row_count: int, gaps: list,
                 columns: list[str], first_record_at, last_record_at, digest: str, sealed_at: datetime,
                 previous_chain: str, key_id: str) -> bytes:
    """The bytes a seal's HMAC and signature cover: HMAC(key, previous seal ‖ range ‖ count ‖ digest ‖
    sealed_at …), fields joined by "|" in this order."""
    fields = [SEAL_VERSION, table, str(position), str(first_id), str(last_id), str(row_count), _encode(gaps),
              _encode(sorted(columns)), _moment(first_record_at) or "", _moment(last_record_at) or "", digest,
              _moment(sealed_at), previous_chain, key_id]
    return "|".join(fields).encode()


def seal_chain(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_bytes(message: bytes, chain: str) -> bytes:
    """What the Ed25519 signature covers: the seal's message and its chain value."""
    return message + b"|" + chain.encode()
