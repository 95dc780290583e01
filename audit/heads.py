"""The chain's heads kept outside the database.

Seals make a change to a record detectable by anyone who cannot sign; they do not stop whoever can
rewrite the seal table (the database's owner, a superuser) from deleting the newest seals, changing
the records those covered, and letting the portal's own sealer re-seal them with the real keys: the
re-grown chain is valid from end to end. What catches that is a copy of each head the chain ever had,
kept where the database cannot reach:

- every seal's head (table, position, ids, chain value, signature) is appended, once its seal has
  committed, to an append-only JSON Lines file (`AUDIT_HEADS_FILE`, on another volume or host in
  production: `chattr +a`, a read-only mount for the database's host) and logged to the `audit.heads`
  logger (`AUDIT_HEADS_SYSLOG` sends it to a syslog host as well);
- every verification run appends one line too (its id, time, result and the heads it checked), so a
  verification history that went missing or backwards is noticed;
- the sealer reads the newest kept head of a table before sealing and refuses to continue when the
  database's chain ends before it or differs from it (the head went backwards): it never seals a
  range twice;
- `audit_verify` checks the chain against the kept heads (the portal's file, or `--heads FILE`: the
  JSON Lines the seals page downloads or the heads file an inspector kept), and reports a kept head
  that is missing or changed as a failure.

What it does not protect against: someone who can rewrite both the database and the heads file (and
the mails and reports the newest head went out in), and records changed before their first seal (the
lag, at most a few minutes).
"""
import json
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("audit.heads")

SEAL = "seal"
VERIFICATION = "verification"
READ_BLOCK = 64 * 1024


def heads_path() -> Path | None:
    """The portal's own heads file (settings.AUDIT_HEADS_FILE), or None when it is switched off."""
    value = getattr(settings, "AUDIT_HEADS_FILE", "")
    return Path(value) if value else None


def _line(entry: dict) -> str:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def heads_append(entries: Iterable[dict]) -> int:
    """Append entries to the heads file (opened O_APPEND, flushed to disk) and log each; how many.
    A line left torn by a crash is closed first, so it never swallows the next one."""
    lines = [_line(entry) for entry in entries]
    if not lines:
        return 0
    for line in lines:
        logger.info(line)
    path = heads_path()
    if path is None:
        return len(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        size = os.fstat(descriptor).st_size
        prefix = ""
        if size:
            last = os.pread(descriptor, 1, size - 1)
            prefix = "" if last == b"\n" else "\n"
        data = (prefix + "\n".join(lines) + "\n").encode()
        while data:
            written = os.write(descriptor, data)
            data = data[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return len(lines)


def seal_head(seal) -> dict:
    return {"kind": SEAL, "table": seal.table_name, "position": seal.position, "first_id": seal.first_id,
            "last_id": seal.last_id, "chain": seal.chain, "signature": seal.signature,
            "sealed_at": seal.sealed_at.isoformat()}


def verification_head(verification, heads: dict) -> dict:
    """One verification run: its id, time and result, and each table's head it checked."""
    return {"kind": VERIFICATION, "id": verification.pk, "finished_at": verification.finished_at.isoformat(),
            "ok": verification.ok, "heads": heads}


def _lines_backwards(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position, rest = handle.tell(), b""
        while position > 0:
            step = min(READ_BLOCK, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + rest
            lines = chunk.split(b"\n")
            rest = lines.pop(0)
            yield from reversed(lines)
        yield rest


def _parsed(raw: bytes) -> dict | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def head_latest(table: str) -> dict | None:
    """The newest seal head kept for a table in the portal's heads file (read from its end), or None."""
    path = heads_path()
    if path is None or not path.exists():
        return None
    for raw in _lines_backwards(path):
        entry = _parsed(raw.strip()) if raw.strip() else None
        if entry and entry.get("kind", SEAL) == SEAL and entry.get("table") == table:
            return entry
    return None


class KeptHeads:
    """The heads read from a JSON Lines file: the heads file, or the seals page's download (its first
    line describes the file; every other line is a seal, with no "kind")."""

    def __init__(self, source: str):
        self.source = source
        # table → position → the chain kept for it (a tuple of them when one position was kept with several:
        # a str per head keeps a year of heads, ~500,000 a table, small enough to hold)
        self.seals: dict[str, dict[int, str | tuple[str, ...]]] = {}
        self.verifications: list[dict] = []
        self.unreadable = 0

    @classmethod
    def read(cls, path: Path) -> "KeptHeads":
        kept = cls(str(path))
        with Path(path).open("rb") as handle:
            for raw in handle:
                raw = raw.strip()
                if not raw:
                    continue
                entry = _parsed(raw)
                if entry is None:
                    kept.unreadable += 1
                elif entry.get("kind") == VERIFICATION and isinstance(entry.get("id"), int):
                    kept.verifications.append(entry)
                elif (entry.get("kind", SEAL) == SEAL and isinstance(entry.get("table"), str)
                      and isinstance(entry.get("position"), int) and isinstance(entry.get("chain"), str)):
                    kept._add(entry["table"], entry["position"], entry["chain"])
                elif "format" not in entry:
                    kept.unreadable += 1
        return kept

    def _add(self, table: str, position: int, chain: str) -> None:
        positions = self.seals.setdefault(table, {})
        found = positions.get(position)
        if found is None:
            positions[position] = chain
        elif chain not in ((found,) if isinstance(found, str) else found):
            positions[position] = tuple(sorted({chain, *((found,) if isinstance(found, str) else found)}))

    def count(self, table: str) -> int:
        return len(self.seals.get(table, {}))
