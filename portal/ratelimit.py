"""Rate limits beyond the lockout (settings.RATE_LIMITS): how many sign-in posts, second-step posts,
password-change posts and lookup API calls one client address, account or API client may make in a
minute. They stop a flood; the lockout (five wrong passwords or codes) and the lookup quotas stay the
rules that protect an account and the citizens' data.

Exact: one Lua script counts and reads in a single atomic step on Redis, in fixed windows on Redis's
own clock (`TIME`), the key's expiry set in the same script (alisaifee/limits#14: INCR then EXPIRE in
two calls leaves a key without a TTL when a process dies in between). N concurrent requests against a
limit of L pass exactly min(N, L). The counters live on the quota Redis (QUOTA_REDIS_URL), the one that
never evicts, so an eviction cannot hand a flooder a fresh window.

When that Redis cannot be reached (or in the single-machine trial without Redis), requests are not
counted and pass, with a warning in the log: sign-in keeps working with Redis down (the lockout is in
PostgreSQL), and lookups are still held to their quotas (counted in PostgreSQL, refused when neither
can count). Refusing every sign-in because a cache is down would lock the IT Center out of the portal
it needs to repair things."""
import hashlib
import logging
import threading
import time

import redis
from django.conf import settings
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from .errors import QuotaExceeded

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60

# KEYS[1] a hash {s: window start, n: count}; ARGV[1] the window's seconds. Returns {count, seconds left}.
_SCRIPT = """
local now = tonumber(redis.call('TIME')[1])
local window = tonumber(ARGV[1])
local start = now - (now % window)
local stored = tonumber(redis.call('HGET', KEYS[1], 's') or '-1')
if stored ~= start then
  redis.call('HSET', KEYS[1], 's', start, 'n', 0)
  redis.call('EXPIRE', KEYS[1], window * 2)
end
local count = redis.call('HINCRBY', KEYS[1], 'n', 1)
return {count, start + window - now}
"""

_scripts_lock = threading.Lock()
_scripts: dict[str, object] = {}  # one client (a connection pool) per Redis URL, per process
# After a failure, Redis is not asked again for QUOTA_REDIS_RETRY_SECONDS (as the quotas do): a frozen
# Redis would otherwise cost every sign-in its socket timeout.
_down_until: dict[str, float] = {}


def _counter():
    url = settings.QUOTA_REDIS_URL
    with _scripts_lock:
        if url not in _scripts:
            timeout = settings.QUOTA_REDIS_SOCKET_TIMEOUT
            client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
            _scripts[url] = client.register_script(_SCRIPT)
        return _scripts[url]


def rate_limit_key(name: str, subject: str) -> str:
    # The subject (an address, a username, a client id) only as a digest: nothing typed is kept in Redis.
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{settings.RATE_LIMIT_KEY_PREFIX}:{name}:{digest}"


def rate_limit_hit(name: str, subject: str) -> None:
    """Count one request of `subject` against the limit `name`; raise QuotaExceeded (429, with the
    seconds until the window ends as `retry_after`) when it is over. Not counted when Redis is down."""
    limit = settings.RATE_LIMITS[name]
    url = settings.QUOTA_REDIS_URL
    if not url or not subject or time.monotonic() < _down_until.get(url, 0.0):
        return
    try:
        count, seconds_left = _counter()(keys=[rate_limit_key(name, subject)], args=[WINDOW_SECONDS])
    except (RedisError, OSError):
        _down_until[url] = time.monotonic() + settings.QUOTA_REDIS_RETRY_SECONDS
        logger.warning("Rate limit %s not counted: its Redis cannot be reached", name, exc_info=True)
        return
    if int(count) > limit:
        raise QuotaExceeded(_("Too many requests in a short time. Wait a moment and try again."),
                            code="rate_limited", retry_after=int(seconds_left))
