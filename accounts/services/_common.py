"""Pieces the accounts services share."""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError, PolicyViolation
from portal.text import name_normalise, reject_control_characters

from ..models import Unit


def insert_unique(instance, message) -> None:
    """Insert a row whose uniqueness the form checked; a concurrent twin that won the race since then
    is the same clear refusal, not a server error."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise DomainError(message, code="duplicate") from error


def full_clean_or_refuse(instance, **kwargs) -> None:
    """Model validation as the service's own refusal (PolicyViolation), never a ValidationError that
    would reach a view as a server error."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        messages = []
        field = None
        for name, errors in error.message_dict.items():
            field = field or (None if name == "__all__" else name)
            messages.extend(errors)
        raise PolicyViolation(messages=messages, field=field, code="invalid") from error


def active_unit_locked(unit: Unit, message) -> Unit:
    """Re-read the unit under a row lock and refuse if it is no longer active: a merge or retirement
    committed since the form was shown must win over an account or unit created in it."""
    locked = Unit.objects.select_for_update().get(pk=unit.pk)
    if not locked.is_active:
        raise DomainError(message, code="unit_inactive")
    return locked


def plain_text_or_refuse(text: str, *, field: str, max_length: int | None = None) -> str:
    """A reason as the service keeps it: refused (field by field) when it holds invisible or direction
    characters or is too long, whoever calls — the form checks too, but a command or the API must not
    slip past."""
    text = (text or "").strip()
    try:
        reject_control_characters(text)
    except ValidationError as error:
        raise PolicyViolation.from_validation_error(error, field=field) from error
    if max_length is not None and len(text) > max_length:
        raise PolicyViolation(_("A reason has at most %(limit_value)d characters (this one has %(show_value)d).") % {
            "limit_value": max_length, "show_value": len(text)}, field=field, code="too_long")
    return text


def name_or_refuse(name: str, *, field: str) -> str:
    """A person's or a unit's name as stored: NFC, trimmed, and plain text (plain_text_or_refuse)."""
    return plain_text_or_refuse(name_normalise(name), field=field)
