"""What the accounts app does, split by domain (as Zulip's zerver/actions/): units, the account
lifecycle, sign-in events and the second factor, sessions, turnover requests, dormancy, roster
reconciliation and recertification. Every flow is written once here and called by the views, the
management commands, the API and the Celery tasks."""
from .bulk import BULK_ACTIONS, accounts_bulk_act  # noqa: F401
from .lifecycle import (  # noqa: F401
    account_create,
    account_disable,
    account_enable,
    account_password_reset,
    account_unlock,
    account_update,
)
from .signin import (  # noqa: F401
    lockout_record,
    login_record_failure,
    login_record_refused,
    login_record_success,
    logout_record,
)
from .units import unit_create, unit_merge, unit_move, unit_rename, unit_retire  # noqa: F401
