"""Accent-insensitive text search: officers type names without diacritics."""
from django.db.models import CharField, F, Func, Value
from django.db.models.functions import Concat, Lower

from portal.text import fold


class Unaccent(Func):
    """PostgreSQL's unaccent() (the extension: accounts/migrations/0003_unaccent.py)."""

    function = "unaccent"
    output_field = CharField()


def search_key(*fields: str) -> Func:
    """One lower-case, accent-free text of the given fields, for `__contains` with `search_term`."""
    parts = []
    for name in fields:
        if parts:
            parts.append(Value(" "))
        parts.append(F(name))
    return Unaccent(Lower(Concat(*parts, output_field=CharField())))


def search_term(text: str) -> str:
    return fold(text.strip())
