"""The authorization matrix (docs/authorization_matrix.md): every URL pattern of the resolver has a row
in tests/authorization_table.py, and every actor's GET and POST, on an object inside and one outside the
actor's subtree, is answered as that row says; a refused POST changes nothing.

One world per module (tests/authorization_world.py, the fixture in tests/portal/conftest.py), built in a
transaction rolled back at the end; each request runs in a savepoint rolled back after it, so that no
answer depends on another."""
import pytest
from django.db import transaction

from tests.authorization_matrix import REFUSED, answer, fingerprint, observed_line, url_for, url_patterns
from tests.authorization_table import TABLE
from tests.authorization_world import ACTORS

ROWS = {table_row.name: table_row for table_row in TABLE}
SCOPED = ("leader_district", "leader_ward", "officer")
# Pages that may name what lies outside a scoped reader's subtree, and what they may name: a turnover
# request may move an officer to any active unit of the province (the receiving unit confirms the move,
# accounts.permissions.may_confirm_turnover_move), so its form lists every unit by name.
SHOWS_OUTSIDE = {"accounts:turnover_create": {"unit"}}


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
def test_each_actor_gets_the_declared_answer(authorization_world, db, name):
    world = authorization_world
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


def test_no_page_shows_a_scoped_reader_what_lies_outside_its_subtree(authorization_world, db):
    """The status is not all: a page a leader or an officer may open (200, on the object of its own
    subtree) names no account, unit or object of the other district."""
    world = authorization_world
    shown = []
    for table_row in TABLE:
        for actor in SCOPED:
            if table_row.expected["GET", actor, "in"] != "200":
                continue
            with transaction.atomic():
                response = world.clients[actor].get(url_for(world, table_row, "in"))
                body = b"".join(response.streaming_content) if response.streaming else response.content
                text = body.decode("utf-8", "replace")
                transaction.set_rollback(True)
            for what, names in world.outside_names().items():
                if what in SHOWS_OUTSIDE.get(table_row.name, ()):
                    continue
                shown += [f"{table_row.name} to {actor}: {name}" for name in names if name in text]
    assert shown == []


def test_the_fingerprint_sees_a_changed_row_and_a_request_leaves_no_trace(authorization_world, db):
    """The checks above can fail: a row changed is seen, and a request (here one that acts: the IT
    Center disabling an account) is rolled back with the client's session kept."""
    world = authorization_world
    subject = world.subject("in")
    before = fingerprint()
    type(subject).objects.filter(pk=subject.pk).update(can_lookup=False)
    assert [name for name in before if before[name] != fingerprint()[name]] == ["accounts_user"]
    type(subject).objects.filter(pk=subject.pk).update(can_lookup=True)
    assert fingerprint() == before
    disable = ROWS["accounts:disable"]
    token, changed, error = answer(world, disable, "it_admin", "in", "POST", before=before)
    assert (token, changed, error) == ("302", [], "")  # acted (an allowed answer is not compared)…
    assert fingerprint() == before                       # …and was rolled back
    assert answer(world, ROWS["home"], "it_admin", "in", "GET") == ("200", [], "")
