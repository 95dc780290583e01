"""What the lookups app reads for others: the quota limits that apply to an officer, the API client
a bearer token belongs to."""
from django.db.models import Q

from policy.selectors import current_policy

from .models import ApiClient, QuotaOverride
from .quotas import WINDOWS, Limits
from .tokens import api_token_hash


def quota_limits_for(officer) -> Limits:
    """The four limits of an officer's lookups, each resolved most specific first: an override for the
    officer's role in the officer's unit, then for the unit, then for the role anywhere, then the
    policy. Unit windows are the unit's whole allowance: they are overridden per unit only."""
    policy = current_policy()
    values = {str(window): getattr(policy, f"quota_{window}") for window in WINDOWS}
    overrides = QuotaOverride.objects.filter(
        Q(unit_id=officer.unit_id, role=officer.role) | Q(unit_id=officer.unit_id, role="")
        | Q(unit__isnull=True, role=officer.role)
    ).values_list("unit_id", "role", "window", "limit")

    def specificity(row):
        unit_id, role, _window, _limit = row
        return (unit_id is not None) * 2 + bool(role)

    for _unit_id, _role, window, limit in sorted(overrides, key=specificity):  # most specific applied last
        values[window] = limit
    return Limits(**values)


def quota_overrides() -> list[QuotaOverride]:
    return list(QuotaOverride.objects.select_related("unit").order_by("unit__code", "role", "window"))


def api_client_for_token(token: str) -> ApiClient | None:
    """The active client whose token this is, or None. One indexed equality on the token's keyed hash
    (the hash of a guess tells nothing about the stored hashes, so no comparison timing leaks)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return ApiClient.objects.select_related("unit").filter(token_hash=api_token_hash(token), is_active=True).first()
