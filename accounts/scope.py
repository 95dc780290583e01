"""Scope: which units and accounts a user sees. Decided here and only here, for every app.

it_admin and inspector see everything, a unit leader their unit and every unit below it (one indexed
prefix query on the materialised path), an officer only themself. Every list, page, export and API
answer goes through these functions, so an object outside scope simply does not exist for the reader
(404). This module imports only the accounts app's models: every layer above may import it.
"""
from django.db.models import Q
from django.shortcuts import get_object_or_404

from .choices import Role
from .models import HandoverRecord, RecertificationItem, RosterImport, TurnoverRequest, Unit, User


def units_visible_to(user):
    if user.sees_everything:
        return Unit.objects.all()
    if user.role == Role.UNIT_LEADER:
        return Unit.objects.filter(path__startswith=user.unit.path)
    return Unit.objects.filter(pk=user.unit_id)


def accounts_visible_to(user):
    if user.sees_everything:
        return User.objects.all()
    if user.role == Role.UNIT_LEADER:
        return User.objects.filter(unit__path__startswith=user.unit.path)
    return User.objects.filter(pk=user.pk)


def unit_is_visible_to(user, unit: Unit) -> bool:
    """For an object already loaded: is this unit inside the user's scope?"""
    if user.sees_everything:
        return True
    if user.role == Role.UNIT_LEADER:
        return unit.path.startswith(user.unit.path)
    return unit.pk == user.unit_id


def unit_within(unit: Unit, root: Unit) -> bool:
    """Is `unit` the unit `root` or one below it? (An API client decides for its unit's subtree.)"""
    return unit.path.startswith(root.path)


def account_is_visible_to(user, account: User) -> bool:
    """For an account already loaded (with its unit): is it inside the user's scope? The same rule as
    accounts_visible_to."""
    if user.sees_everything:
        return True
    if user.role == Role.UNIT_LEADER:
        return unit_within(account.unit, user.unit)
    return account.pk == user.pk


def account_get_visible(user, pk) -> User:
    return get_object_or_404(accounts_visible_to(user).select_related("unit"), pk=pk)


def unit_get_visible(user, pk) -> Unit:
    return get_object_or_404(units_visible_to(user), pk=pk)


def handover_record_get_visible(user, pk) -> HandoverRecord:
    return get_object_or_404(
        HandoverRecord.objects.filter(account__in=accounts_visible_to(user)).select_related("account", "unit"),
        pk=pk,
    )


def turnover_requests_visible_to(user):
    """A leader sees the requests of their subtree and those that move an officer into it (to
    confirm the move); an officer the drafts they wrote; it_admin and inspector all."""
    if user.sees_everything:
        return TurnoverRequest.objects.all()
    if user.role == Role.UNIT_LEADER:
        path = user.unit.path
        return TurnoverRequest.objects.filter(
            Q(unit__path__startswith=path) | Q(lines__new_unit__path__startswith=path)).distinct()
    return TurnoverRequest.objects.filter(created_by=user)


def turnover_request_get_visible(user, pk) -> TurnoverRequest:
    return get_object_or_404(turnover_requests_visible_to(user).select_related("unit", "created_by"), pk=pk)


def roster_imports_visible_to(user):
    """A roster import is seen by the one who uploaded it and by it_admin and inspector."""
    return RosterImport.objects.all() if user.sees_everything else RosterImport.objects.filter(uploaded_by=user)


def roster_import_get_visible(user, pk) -> RosterImport:
    return get_object_or_404(roster_imports_visible_to(user), pk=pk)


def recertification_items_for(user, campaign):
    """The items of a campaign a reader is shown to decide: for a leader, those reviewed by a unit in
    their subtree, never their own account; it_admin and inspector all (who may decide is
    accounts.permissions.may_certify_accounts); an officer none."""
    items = RecertificationItem.objects.filter(campaign=campaign).select_related("account", "unit")
    if user.sees_everything:
        return items
    if user.role != Role.UNIT_LEADER:
        return items.none()
    return items.filter(reviewer_unit__in=units_visible_to(user)).exclude(account=user)


def account_within_unit(account, unit: Unit) -> bool:
    """Is the account one of the unit's subtree's (a connected system signs in only the officers of its
    owner unit and the units below it)?"""
    return account.unit is not None and unit_within(account.unit, unit)
