"""Pieces the accounts services share."""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portal.errors import DomainError, PolicyViolation

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
