"""The one error family of the portal (docs/conventions.md "Services and selectors").

Services raise only these (wrapping Django's ValidationError from `full_clean` or `validate_password`);
each interface translates them once: `portal.errors.form_error`/`message_error` for HTML views, the
API's `error()` answer, `CommandError` for management commands. `code` is a stable machine code (what
the API answers as `reason`); `message` is translated text safe to show to the user.
"""
from django.core.exceptions import ValidationError


class DomainError(Exception):
    """An action refused by a business rule."""

    status = 400
    default_code = "refused"

    def __init__(self, message, *, code: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code

    @property
    def messages(self) -> list:
        return [self.message]


class NotAllowed(DomainError):
    """The actor's role or scope does not permit the action (HTTP 403)."""

    status = 403
    default_code = "not_allowed"


class PolicyViolation(DomainError):
    """Input the rules refuse (HTTP 400): one message per broken rule, field by field when known."""

    status = 400
    default_code = "policy_violation"

    def __init__(self, message=None, *, code: str | None = None, messages: list | None = None,
                 field: str | None = None):
        self._messages = list(messages or ([message] if message is not None else []))
        super().__init__(message if message is not None else " ".join(str(m) for m in self._messages), code=code)
        self.field = field

    @property
    def messages(self) -> list:
        return self._messages

    @classmethod
    def from_validation_error(cls, error: ValidationError, *, field: str | None = None) -> "PolicyViolation":
        codes = [item.code for item in error.error_list if getattr(item, "code", None)] \
            if hasattr(error, "error_list") else []
        return cls(messages=error.messages, code=codes[0] if codes else None, field=field)


class QuotaExceeded(DomainError):
    """Over a rate or quota (HTTP 429); `retry_after` in whole seconds."""

    status = 429
    default_code = "quota_exceeded"

    def __init__(self, message, *, code: str | None = None, retry_after: int = 60):
        super().__init__(message, code=code)
        self.retry_after = max(int(retry_after), 1)


def form_error(form, error: DomainError, *, field: str | None = None) -> None:
    """The HTML translation point for a form page: the refusal shows next to its field when the
    service (or the view, with `field`) named one, above the form otherwise."""
    field = field or getattr(error, "field", None)
    if field not in form.fields:
        field = None
    for message in error.messages:
        form.add_error(field, message)


def message_error(request, error: DomainError) -> None:
    """The HTML translation point for an action button: the refusal as a flash message."""
    from django.contrib import messages

    for message in error.messages:
        messages.error(request, message)
