"""The audit context of the current request, API call or job: client address, user agent and a
request id, set once (a contextvar, as NetBox's netbox/context.py) so that services record them
without taking `request=`. Outside any request (a shell, a job) the context is empty."""
import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from .client_ip import client_ip


@dataclass(frozen=True)
class AuditContext:
    ip_address: str | None = None
    user_agent: str = ""
    request_id: str = ""


_EMPTY = AuditContext()
_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar("audit_context", default=_EMPTY)


def current_audit_context() -> AuditContext:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def audit_context(*, ip_address=None, user_agent: str = "", request_id: str = ""):
    """Set the context for a block (a Celery task, a management command, a test)."""
    token = _current.set(AuditContext(ip_address=ip_address, user_agent=(user_agent or "")[:255],
                                      request_id=request_id or new_request_id()))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def context_from_request(request) -> AuditContext:
    return AuditContext(ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:255],
                        request_id=getattr(request, "request_id", "") or new_request_id())


class AuditContextMiddleware:
    """First in the chain: every later layer (axes' signals included) records this request's context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = new_request_id()
        token = _current.set(context_from_request(request))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request.request_id
        return response
