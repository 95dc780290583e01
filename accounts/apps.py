from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and units")

    def ready(self):
        # Infrastructure, not business: give SQLite (the single-machine trial) PostgreSQL's unaccent(),
        # and hook Django's and django-axes' sign-in signals (the receivers hand over to services).
        from django.db.backends.signals import connection_created

        from . import receivers  # noqa: F401
        from .search import register_sqlite_unaccent

        connection_created.connect(register_sqlite_unaccent)

        # The "locked" clause of accounts.permissions.account_access_refusal: THE lockout rule.
        from .permissions import access_refusal_rule_register
        from .selectors import lockout_ends_at

        access_refusal_rule_register("locked", lambda account: lockout_ends_at(account.username) is not None)

    def audit_detail_labels(self):
        """How the audit log names this app's fields and values in an event's details (audit asks
        every app; it imports none)."""
        from audit.choices import AccessRefusal, SessionEndReason

        from .choices import (
            EventReason,
            PasswordChangeReason,
            RecertificationDecision,
            RecertificationOutcome,
            Role,
            SignInFactor,
            UnitKind,
        )

        labels = {
            "role": _("Role"), "unit": _("Unit"), "can_lookup": _("May look up citizens"), "full_name": _("Full name"),
            "email": _("E-mail"), "phone": _("Phone"), "handover_record": _("Handover record"),
            "handover_records": _("Handover records"), "accounts_moved": _("Accounts moved"),
            "attempts_cleared": _("Failed attempts cleared"), "required_because": _("Required because"),
            "name": _("Name"), "parent": _("Parent unit"), "merged_into": _("Merged into"), "code": _("Agency code"),
            "kind": _("Kind"), "disabled_reason": _("Reason disabled"),
            # Sessions the portal ended and refused accesses (sign-in, roles and scope are this app's).
            "ended_because": _("Reason the session ended"), "path": _("Address"), "status": _("HTTP status code"),
            "refused_because": _("Reason refused"),
            "already_required": _("Already had to change the password because"),
            "one_time_password_voided": _("Pending one-time password voided"),
            "sessions_ended": _("Sessions ended"), "dormant_days": _("Days without use"),
            "last_activity": _("Last activity"), "accounts_disabled": _("Accounts disabled"),
            "turnover_request": _("Turnover request"), "letter": _("Official letter"), "lines": _("Lines"),
            "record": _("Record"), "due_at": _("Due by"), "new_unit": _("New unit"), "account": _("Account"),
            "expires_at": _("Until"), "file": _("File"), "sha256": _("SHA-256"), "roster_import": _("Roster import"),
            "note": _("Note"), "campaign": _("Recertification campaign"), "decision": _("Decision"),
            "items_left": _("Accounts left to certify"), "days_before": _("Days before the deadline"),
            "accounts_escalated": _("Accounts escalated"), "accounts_affected": _("Accounts affected"),
            "outcome": _("Accounts left uncertified"), "deadline": _("Deadline"), "accounts": _("Number of accounts"),
            # The legal basis of a unit change (rename, move, merge, retire).
            "basis_number": _("Decision number and symbol"), "basis_date": _("Decision date"),
            "effective_date": _("Effective date"),
            # The second factor and sessions.
            "factor": _("Factor that failed"), "second_factor": _("Second factor used"),
            "recovery_codes_left": _("Recovery codes left"), "device": _("Browser"), "ip_address": _("IP address"),
        }
        return labels, {"role": Role, "kind": UnitKind, "required_because": PasswordChangeReason,
                        "decision": RecertificationDecision, "outcome": RecertificationOutcome,
                        "already_required": PasswordChangeReason, "reason": EventReason,
                        "ended_because": SessionEndReason, "refused_because": AccessRefusal,
                        "factor": SignInFactor, "second_factor": SignInFactor}
