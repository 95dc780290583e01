from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    # Each app adds its kinds here, before the reason classes below (no migration: the column has no choices).
    LOGIN_SUCCESS = "login_success", _("Login succeeded")
    LOGIN_FAILURE = "login_failure", _("Login failed")
    LOGOUT = "logout", _("Logged out")
    LOCKOUT = "lockout", _("Account locked out")
    UNLOCK = "unlock", _("Account unlocked")
    PASSWORD_CHANGED = "password_changed", _("Password changed by the officer")
    PASSWORD_FORCED = "password_forced", _("Password change forced")
    PASSWORD_RESET = "password_reset", _("Password reset by an administrator")
    ACCOUNT_CREATED = "account_created", _("Account created")
    ACCOUNT_UPDATED = "account_updated", _("Account details changed")
    ACCOUNT_DISABLED = "account_disabled", _("Account disabled")
    ACCOUNT_ENABLED = "account_enabled", _("Account enabled")
    ROLE_CHANGED = "role_changed", _("Role changed")
    UNIT_CHANGED = "unit_changed", _("Account moved to another unit")
    HANDOVER_RECEIVED = "handover_received", _("Handover record received")
    POLICY_CHANGED = "policy_changed", _("Password policy changed")
    UNIT_CREATED = "unit_created", _("Unit created")
    UNIT_RENAMED = "unit_renamed", _("Unit renamed")
    UNIT_MOVED = "unit_moved", _("Unit moved")
    UNIT_MERGED = "unit_merged", _("Unit merged")
    UNIT_RETIRED = "unit_retired", _("Unit retired")
    DORMANCY_EXEMPTED = "dormancy_exempted", _("Exempted from the dormant-account rule")
    DORMANCY_EXEMPTION_REVOKED = "dormancy_exemption_revoked", _("Dormant-account exemption withdrawn")
    DORMANT_ACCOUNTS_DISABLED = "dormant_accounts_disabled", _("Unused accounts of the unit disabled")
    TURNOVER_CREATED = "turnover_created", _("Turnover request drafted")
    TURNOVER_SUBMITTED = "turnover_submitted", _("Turnover request submitted")
    TURNOVER_RETURNED = "turnover_returned", _("Turnover request returned to the unit")
    TURNOVER_ACCEPTED = "turnover_accepted", _("Turnover request accepted")
    TURNOVER_EXECUTED = "turnover_executed", _("Turnover request executed")
    TURNOVER_CANCELLED = "turnover_cancelled", _("Turnover request cancelled")
    TURNOVER_MOVE_CONFIRMED = "turnover_move_confirmed", _("Move confirmed by the receiving unit")
    TURNOVER_EXECUTION_FAILED = "turnover_execution_failed", _("Turnover request could not be executed")
    ROSTER_UPLOADED = "roster_uploaded", _("Staff roster uploaded for reconciliation")
    ACCESS_DENIED = "access_denied", _("Access refused")
    RECERTIFICATION_STARTED = "recertification_started", _("Recertification campaign started")
    RECERTIFICATION_DECIDED = "recertification_decided", _("Account certified by a leader")
    RECERTIFICATION_REMINDED = "recertification_reminded", _("Leader reminded of accounts left to certify")
    RECERTIFICATION_ESCALATED = "recertification_escalated", _("Uncertified accounts escalated to the level above")
    RECERTIFICATION_CLOSED = "recertification_closed", _("Recertification campaign closed")

    HOLIDAY_ADDED = "holiday_added", _("Public holiday added")
    HOLIDAY_REMOVED = "holiday_removed", _("Public holiday removed")
    QUOTA_OVERRIDE_SET = "quota_override_set", _("Lookup quota override set")
    QUOTA_OVERRIDE_CLEARED = "quota_override_cleared", _("Lookup quota override removed")
    API_CLIENT_CREATED = "api_client_created", _("Lookup API client registered")
    API_CLIENT_REVOKED = "api_client_revoked", _("Lookup API client's token revoked")
    LOOKUP_REVEALED = "lookup_revealed", _("Citizen's details shown in full after a lookup")
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("Authenticator app enrolled for sign-in")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Authenticator app removed for re-enrolment")
    SESSION_ENDED = "session_ended", _("Session ended by its owner")
    SESSIONS_ENDED = "sessions_ended", _("All sessions of an account ended by an administrator")
    NOTICE_RESENT = "notice_resent", _("Failed notice sent again")
    AUDIT_RETENTION = "audit_retention", _("Records older than the retention period removed")
    COMPLIANCE_THRESHOLDS_CHANGED = "compliance_thresholds", _("Compliance zone thresholds changed")
    COMPLIANCE_REPORTS_GENERATED = "compliance_reports", _("Monthly compliance reports generated")
    LIST_EXPORTED = "list_exported", _("List exported")
    LOOKUP_ANOMALY_FLAGGED = "lookup_anomaly_flagged", _("Lookup flagged as an anomaly")
    LOOKUP_ANOMALY_REVIEWED = "lookup_anomaly_reviewed", _("Flagged lookup reviewed and closed")
    LOOKUP_HISTORY_EXPORTED = "lookup_history_exported", _("Officer's lookup history exported")
    # Connected systems (federation/).
    SYSTEM_SIGN_IN = "system_sign_in", _("Signed in to a connected system")
    SYSTEM_SIGN_IN_REFUSED = "system_sign_in_refused", _("Sign-in to a connected system refused")
    SYSTEM_TOKENS_REVOKED = "system_tokens_revoked", _("Connected systems' tokens revoked")
    SYSTEM_LOGOUT_DELIVERED = "system_logout_delivered", _("Sign-out delivered to a connected system")
    SYSTEM_LOGOUT_FAILED = "system_logout_failed", _("Sign-out could not be delivered to a connected system")
    SYSTEM_REGISTERED = "system_registered", _("Connected system registered")
    SYSTEM_CHANGED = "system_changed", _("Connected system changed")
    SYSTEM_DISABLED = "system_disabled", _("Connected system disabled")
    SYSTEM_SECRET_ROTATED = "system_secret_rotated", _("Connected system's secret replaced")
    SIGNING_KEY_ROTATED = "signing_key_rotated", _("Sign-in signing key rotated")


class SessionEndReason(models.TextChoices):
    """Why the portal ended a session by itself: the code a LOGOUT event keeps in its details
    ("ended_because"). A logout the person asked for has none."""

    IDLE_TIMEOUT = "idle_timeout", _("No activity for longer than allowed")
    SESSION_LIFETIME = "session_lifetime", _("Maximum session length reached")
    ONE_TIME_PASSWORD_EXPIRED = "one_time_password_expired", _("One-time password expired unused")
    SECOND_FACTOR_MISSING = "second_factor_missing", _("Session opened without the required second factor")


class AccessRefusal(models.TextChoices):
    """Why a request was refused: the code an ACCESS_DENIED event keeps in its details ("refused_because")."""

    ROLE = "role", _("Role may not open the page")
    NOT_FOUND = "not_found", _("Not found or outside the reader's scope")
    CSRF = "csrf", _("Form without a valid security token")
