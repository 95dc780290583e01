"""Keyset pagination (the "seek method"): a page is the rows just past a key, read along the
ordering's index — no OFFSET that reads everything it skips, no COUNT(*) of a table that grows by
millions a day. A page knows whether older rows follow (it reads one row more) and, when it was reached
from a key, that newer ones exist; links carry the key of the page's last or first row.

Lists are newest first, on one or two columns: ("-id",) or ("-decided_at", "-pk"). A key that cannot be
read gives the first page: it is only a position, the reader's scope is the queryset's."""
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime

SEPARATOR = "_"


@dataclass
class KeysetPage:
    object_list: list = field(default_factory=list)
    has_next: bool = False  # older rows follow
    has_previous: bool = False  # newer rows came before
    next_key: str = ""
    previous_key: str = ""

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def _value(row, name: str):
    return getattr(row, name.lstrip("-"))


def _encode(row, fields) -> str:
    parts = []
    for name in fields:
        value = _value(row, name)
        parts.append(value.isoformat() if isinstance(value, datetime) else str(value))
    return SEPARATOR.join(parts)


def _decode(key: str, fields):
    parts = key.split(SEPARATOR) if key else []
    if len(parts) != len(fields):
        raise ValueError(key)
    values = []
    for part, name in zip(parts, fields):
        if name.lstrip("-") in ("id", "pk"):
            values.append(int(part))
        else:
            moment = parse_datetime(part)
            if moment is None or moment.tzinfo is None:
                raise ValueError(key)
            values.append(moment)
    return values


def _beyond(fields, values, *, older: bool) -> Q:
    """Rows strictly older (or newer) than the key, written so that the first column bounds the index
    scan: a <= ka AND (a < ka OR b < kb)."""
    names = [name.lstrip("-") for name in fields]
    strict, loose = ("lt", "lte") if older else ("gt", "gte")
    if len(names) == 1:
        return Q(**{f"{names[0]}__{strict}": values[0]})
    first, second = names
    return Q(**{f"{first}__{loose}": values[0]}) & (
        Q(**{f"{first}__{strict}": values[0]}) | Q(**{f"{second}__{strict}": values[1]}))


def keyset_page(queryset, *, fields=("-id",), size: int, after: str = "", before: str = "") -> KeysetPage:
    """One page of `queryset` newest first: the first, the one older than `after`, or the one newer than
    `before` (each the key of a row, as the page's links carry it)."""
    ascending = [name.lstrip("-") for name in fields]
    try:
        if before:
            values = _decode(before, fields)
            rows = list(queryset.filter(_beyond(fields, values, older=False)).order_by(*ascending)[:size + 1])
            has_previous = len(rows) > size
            rows = list(reversed(rows[:size]))
            return _page(rows, fields, has_next=True, has_previous=has_previous)
        if after:
            values = _decode(after, fields)
            rows = list(queryset.filter(_beyond(fields, values, older=True)).order_by(*fields)[:size + 1])
            return _page(rows[:size], fields, has_next=len(rows) > size, has_previous=True)
    except (ValueError, TypeError):
        pass
    rows = list(queryset.order_by(*fields)[:size + 1])
    return _page(rows[:size], fields, has_next=len(rows) > size, has_previous=False)


def _page(rows, fields, *, has_next: bool, has_previous: bool) -> KeysetPage:
    return KeysetPage(object_list=rows, has_next=has_next and bool(rows), has_previous=has_previous and bool(rows),
                      next_key=_encode(rows[-1], fields) if rows else "",
                      previous_key=_encode(rows[0], fields) if rows else "")
