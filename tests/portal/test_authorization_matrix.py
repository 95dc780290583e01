"""The authorization matrix (docs/authorization_matrix.md): every URL pattern of the resolver has a row
in tests/authorization_table.py, and every actor's GET and POST, on an object inside and one outside the
actor's subtree, is answered as that row says; a refused POST changes nothing.

One world per module (tests/authorization_world.py), built in a transaction that is rolled back at the
end; each request runs in a savepoint rolled back after it, so that no answer depends on another."""
import pytest
from django.db import transaction

from tests.authorization_matrix import REFUSED, answer, fingerprint, observed_line, url_patterns
from tests.authorization_table import TABLE
from tests.authorization_world import ACTORS, world_build

ROWS = {table_row.name: table_row for table_row in TABLE}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.test import override_settings

    media = tmp_path_factory.mktemp("authorization-media")
    with django_db_blocker.unblock(), override_settings(PRIVATE_MEDIA_ROOT=str(media)), transaction.atomic():
        built = world_build()
        yield built
        transaction.set_rollback(True)


def test_every_url_pattern_has_exactly_one_row():
    names = [name for name, _ in url_patterns()]
    missing = sorted(set(names) - set(ROWS))
    assert missing == [], (
        "URL patterns without a row in tests/authorization_table.py (docs/authorization_matrix.md says how "
        f"to add one): {missing}")
    stale = sorted(set(ROWS) - set(names))
    assert stale == [], f"rows of tests/authorization_table.py for URL patterns that no longer exist: {stale}"
    assert len(ROWS) == len(TABLE), "a URL pattern has two rows"


@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_actor_gets_the_declared_answer(world, db, name):
    table_row = ROWS[name]
    before = fingerprint()
    wrong, changed, errors = [], [], []
    for method in ("GET", "POST"):
        for actor in ACTORS:
            for side in table_row.sides:
                token, tables, error = answer(world, table_row, actor, side, method,
                                              before=before if method == "POST" else None)
                expected = table_row.expected[method, actor, side]
                if token != expected:
                    wrong.append(f"{method} {actor} {side}: {token}, declared {expected}")
                if tables and expected in REFUSED:
                    changed.append(f"{method} {actor} {side} ({token}) changed {tables}")
                if error:
                    errors.append(f"{method} {actor} {side}: {error}")
    assert errors == [], errors
    assert changed == [], changed
    if wrong:
        pytest.fail(f"{name}: {wrong}\nobserved, in the table's words:\n"
                    f"  get=\"{observed_line(world, table_row, 'GET')}\",\n"
                    f"  post=\"{observed_line(world, table_row, 'POST')}\"", pytrace=False)
