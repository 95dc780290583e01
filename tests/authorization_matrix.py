"""The machinery of the authorization matrix (docs/authorization_matrix.md): every URL pattern of the
resolver, a row's URL for an actor and a side, one request answered as a token of the table, and the
fingerprint that shows a refused POST changed nothing. Plain functions, used by
tests/portal/test_authorization_matrix.py."""
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from django.conf import settings
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .authorization_world import ACTORS, KINDS, SIDES

# The tokens of the table: an HTTP status, or `login` for a redirect to the sign-in page.
SIGN_IN = "login"
# A POST answered with one of these is refused: it must leave the database as it found it.
REFUSED = {"400", "401", "403", "404", "405", SIGN_IN}

# Tables a refused request may write: the refusal's own audit event (ACCESS_DENIED), the session's
# last activity, the rate limits' and the audit context's bookkeeping.
FINGERPRINT_IGNORED_PREFIXES = ("audit_securityevent", "accounts_accountsession", "django_session")


@dataclass(frozen=True)
class Value:
    """A URL kwarg that is a plain value (a file format, a list name), not an object of the world."""
    value: object


@dataclass
class Row:
    name: str
    kwargs: dict
    get: str
    post: str
    expected: dict = field(default_factory=dict)   # (method, actor, side) -> token

    def __post_init__(self):
        for method, line in (("GET", self.get), ("POST", self.post)):
            tokens = line.split()
            if len(tokens) != len(ACTORS):
                raise ValueError(f"{self.name} {method}: {len(tokens)} answers for {len(ACTORS)} actors: {line!r}")
            for actor, token in zip(ACTORS, tokens, strict=True):
                inside, _, outside = token.partition("/")
                for side, answer in zip(SIDES, (inside, outside or inside), strict=True):
                    self.expected[method, actor, side] = answer
        for kwarg, kind in self.kwargs.items():
            if not isinstance(kind, Value) and kind not in KINDS:
                raise ValueError(f"{self.name}: the kwarg {kwarg} names the kind {kind!r}, missing from "
                                 "tests/authorization_world.py KINDS")

    @property
    def sides(self):
        """Both sides when the URL names an object of the world, one otherwise."""
        return SIDES if any(not isinstance(kind, Value) for kind in self.kwargs.values()) else SIDES[:1]


def row(name: str, *, get: str, post: str, **kwargs) -> Row:
    """One row of the table: the URL pattern's name, the kind of object (or Value) of each kwarg, and for
    GET and for POST the answer of each actor, in the order of ACTORS; `a/b` is the answer for the object
    inside / outside the actor's subtree."""
    return Row(name=name, kwargs=kwargs, get=get, post=post)


def url_patterns(resolver=None, prefix="", namespace=None):
    """Every URL pattern the site answers: (name with its namespaces, route), recursively (the /o/
    OpenID Connect provider and the /api/ included). A pattern without a name is known by its route."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else (pattern.name or route)
            yield name, route


def url_for(world, table_row: Row, side: str) -> str:
    kwargs = {}
    for kwarg, kind in table_row.kwargs.items():
        if isinstance(kind, Value):
            kwargs[kwarg] = kind.value
        else:
            kwargs[kwarg] = world.value(kind, side).pk
    return reverse(table_row.name, kwargs=kwargs)


def fingerprint() -> dict:
    """Per table, its number of rows and the sum of their hashes (no sort, so it stays cheap), for every
    table but the ones a refusal may write, in one statement: what a refused POST must leave as it found."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition""")
        tables = sorted(name for (name,) in cursor.fetchall() if not name.startswith(FINGERPRINT_IGNORED_PREFIXES))
        digests = ", ".join(
            f"(SELECT count(*) || ':' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM \"{name}\" t)"
            for name in tables)
        cursor.execute(f"SELECT {digests}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def token_of(response) -> str:
    if response.status_code == 302 and response["Location"].split("?")[0] == reverse(settings.LOGIN_URL):
        return SIGN_IN
    return str(response.status_code)


def answer(world, table_row: Row, actor: str, side: str, method: str, *, before: dict | None = None):
    """One request, rolled back: (token, what changed when a refused POST changed something, the error of a 500).
    The client's cookies are put back too (a logout or a sign-in would otherwise change the actor)."""
    client = world.clients[actor]
    url = url_for(world, table_row, side)
    cookies = SimpleCookie(client.cookies.output(header="", sep="\n"))
    changed, error = [], ""
    with transaction.atomic():
        try:
            response = client.get(url) if method == "GET" else client.post(url, {})
            token = token_of(response)
            if response.streaming:
                # Read to the end: the test client's wrapper then closes the response the way a server
                # does (response.close() from here would close the database connection too).
                b"".join(response.streaming_content)
        except Exception as exception:  # noqa: BLE001 - a 500 is an answer of the table, reported with its cause
            token, error = "500", f"{type(exception).__name__}: {exception}"
        if before is not None and token in REFUSED and error == "":
            after = fingerprint()
            changed = sorted(name for name in before if before[name] != after.get(name))
        transaction.set_rollback(True)
    client.cookies = cookies
    return token, changed, error


def observed_line(world, table_row: Row, method: str) -> str:
    """The row's answers as the table writes them (for the message of a failure)."""
    tokens = []
    for actor in ACTORS:
        answers = [answer(world, table_row, actor, side, method)[0] for side in table_row.sides]
        tokens.append(answers[0] if len(set(answers)) == 1 else "/".join(answers))
    return " ".join(tokens)
